import { useCallback, useState } from "react";
import { ChatLog, withMessage } from "../components/Chat.jsx";
import { FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { useAction, useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";

export default function Support() {
  const { api, liveStatus } = useSession();
  const [text, setText] = useState("");
  const history = useResource((signal) => api.get("/api/support/history", { signal }), [liveStatus === "open"]);

  const send = useCallback(async () => {
    const result = await api.post("/api/support/messages", { text: text.trim() });
    setText("");
    history.setData((list) => withMessage(withMessage(list, result.message), result.reply));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, text]);
  const { run, busy, error } = useAction(send);

  useLive("chat.message", (message) => history.setData((list) => withMessage(list, message.data)));

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
      <form
        className="chat-form"
        aria-label="Send a message to support"
        onSubmit={(event) => {
          event.preventDefault();
          if (text.trim()) run();
        }}
      >
        <label htmlFor="support-text" className="visually-hidden">
          Your message
        </label>
        <fieldset role="group">
          <input id="support-text" name="text" required maxLength={2000} placeholder="Type your question" autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" aria-busy={busy} disabled={busy}>
            Send
          </button>
        </fieldset>
        <FormError error={error} />
      </form>
    </section>
  );
}
