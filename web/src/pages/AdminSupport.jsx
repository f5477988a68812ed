import { useCallback, useMemo, useState } from "react";
import { ChatForm, ChatLog, withMessage } from "../components/Chat.jsx";
import { Empty, Resource } from "../components/Status.jsx";
import { dateTime } from "../format.js";
import { useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { useLive, useSession } from "../session.jsx";
import { CHAT_MESSAGE, SUPPORT_ALERT } from "../pushes.generated.js";

// Unanswered first, then the most recent.
export function inboxOrder(conversations) {
  return [...conversations].sort(
    (a, b) =>
      Number(b.awaiting_staff) - Number(a.awaiting_staff) ||
      String(b.last_message?.created_at).localeCompare(String(a.last_message?.created_at)),
  );
}

function Conversation({ userId, who, onReplied }) {
  const { api, user } = useSession();
  const history = useResource(
    (signal) => api.get(`/api/support/history?user_id=${userId}`, { signal }),
    [userId],
  );
  useLive(CHAT_MESSAGE, (message) => {
    if (message.data?.user_id === userId) history.setData((list) => withMessage(list, message.data));
  });
  const reply = useCallback(
    async (text) => {
      const sent = await api.post("/api/support/admin/reply", { user_id: userId, text });
      history.setData((list) => withMessage(list, sent));
      onReplied();
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, userId, onReplied],
  );
  return (
    <section aria-labelledby="conversation-heading" className="conversation">
      <h2 id="conversation-heading">Conversation with {who}</h2>
      <Resource resource={history} empty="No messages." loadingLabel="Loading the conversation…">
        {(list) => <ChatLog messages={list} perspective="staff" label={`Conversation with ${who}`} />}
      </Resource>
      {can(user, "support.reply") && (
        <ChatForm label={`Reply to ${who}`} inputLabel="Your reply" placeholder="Type your reply" button="Reply" send={reply} />
      )}
    </section>
  );
}

export default function AdminSupport() {
  const { api } = useSession();
  const [selected, setSelected] = useState(null);
  const inbox = useResource((signal) => api.get("/api/support/conversations", { signal }), []);
  const users = useResource((signal) => api.get("/api/users", { signal }), []);
  const names = useMemo(
    () => Object.fromEntries((users.data || []).map((u) => [u.id, `${u.name} <${u.email}>`])),
    [users.data],
  );
  const refresh = useCallback(() => inbox.reload({ quiet: true }), [inbox]);
  useLive(SUPPORT_ALERT, refresh);
  useLive(CHAT_MESSAGE, refresh);

  const conversations = inboxOrder(inbox.data || []);
  const who = (userId) => names[userId] || `user ${userId.slice(0, 8)}`;
  return (
    <section className="inbox-page">
      <h1>Support inbox</h1>
      <div className="inbox-layout">
        <section aria-labelledby="inbox-heading">
          <h2 id="inbox-heading">Conversations</h2>
          <Resource resource={inbox} empty="No conversations yet." loadingLabel="Loading the inbox…">
            {() => (
              <ul className="inbox" aria-label="Conversations, unanswered first" data-testid="inbox">
                {conversations.map((c) => (
                  <li key={c.user_id} className={c.awaiting_staff ? "awaiting" : ""}>
                    <button
                      type="button"
                      className={selected === c.user_id ? "" : "outline"}
                      aria-pressed={selected === c.user_id}
                      onClick={() => setSelected(c.user_id)}
                    >
                      <strong>{who(c.user_id)}</strong>
                      {c.awaiting_staff && <mark className="badge">Needs an answer</mark>}
                      <small>
                        {c.last_message?.text} · {dateTime(c.last_message?.created_at)}
                      </small>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Resource>
        </section>
        {selected ? (
          <Conversation key={selected} userId={selected} who={who(selected)} onReplied={refresh} />
        ) : (
          <Empty>Choose a conversation to read and answer it.</Empty>
        )}
      </div>
    </section>
  );
}
