import { useCallback } from "react";
import { ChatForm, ChatLog, withMessage } from "../components/Chat.jsx";
import { Resource } from "../components/Status.jsx";
import { useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import { CHAT_MESSAGE } from "../pushes.generated.js";

export default function Support() {
  const { api, liveStatus } = useSession();
  const history = useResource((signal) => api.get("/api/support/history", { signal }), [liveStatus === "open"]);

  const send = useCallback(
    async (text) => {
      const result = await api.post("/api/support/messages", { text });
      history.setData((list) => withMessage(withMessage(list, result.message), result.reply));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api],
  );

  useLive(CHAT_MESSAGE, (message) => history.setData((list) => withMessage(list, message.data)));

  const waiting = (() => {
    const list = history.data || [];
    return list.length > 0 && list[list.length - 1].author === "user";
  })();
  return (
    <section className="support">
      <h1>Support</h1>
      <p>Ask about your devices, your consumption, your account or the market. If the bot cannot help, a person answers here.</p>
      <Resource resource={history} empty="No messages yet. Ask your first question below." loadingLabel="Loading your conversation…">
        {(list) => <ChatLog messages={list} label="Your support conversation" />}
      </Resource>
      {waiting && (
        <p role="status" className="awaiting">
          Waiting for the support team to answer…
        </p>
      )}
      <ChatForm label="Send a message to support" inputLabel="Your message" placeholder="Type your question" button="Send" send={send} />
    </section>
  );
}
