import { useCallback, useEffect, useId, useRef, useState } from "react";
import { dateTime } from "../format.js";
import { useAction } from "../hooks.js";
import { FormError } from "./Field.jsx";

const AUTHORS = { user: "You", bot: "EMS bot", ai: "EMS assistant", staff: "Support team" };

// A conversation, oldest first, kept scrolled to the newest message; new messages
// are announced to screen readers.
export function ChatLog({ messages, perspective = "user", label = "Conversation" }) {
  const end = useRef(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [messages.length]);
  const author = (message) =>
    perspective === "staff" && message.author === "user" ? "User" : AUTHORS[message.author] || message.author;
  return (
    <ol className="chat" role="log" aria-live="polite" aria-label={label}>
      {messages.map((message) => (
        <li key={message.id} className={`chat-message from-${message.author}`} data-author={message.author}>
          <span className="chat-author">{author(message)}</span>
          <p>{message.text}</p>
          <time dateTime={message.created_at}>{dateTime(message.created_at)}</time>
        </li>
      ))}
      <li ref={end} aria-hidden="true" className="chat-end" />
    </ol>
  );
}

// Adds `message` to `list` unless a message with its id is there already.
export function withMessage(list, message) {
  if (!message || (list || []).some((m) => m.id === message.id)) return list;
  return [...(list || []), message];
}

// One line to type in and a button: `send(text)` runs on submit, and the line is
// cleared once it succeeded.
export function ChatForm({ label, inputLabel, placeholder, button, send }) {
  const id = useId();
  const [text, setText] = useState("");
  const submit = useCallback(async () => {
    await send(text.trim());
    setText("");
  }, [send, text]);
  const { run, busy, error } = useAction(submit);
  return (
    <form
      className="chat-form"
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim()) run();
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        {inputLabel}
      </label>
      <fieldset role="group">
        <input id={id} name="text" required maxLength={2000} placeholder={placeholder} autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" aria-busy={busy} disabled={busy}>
          {button}
        </button>
      </fieldset>
      <FormError error={error} />
    </form>
  );
}
