import { useCallback, useEffect, useId, useRef, useState } from "react";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError } from "../../components/Field.jsx";
import { actionBody, COMMENT_MAX, severityLabel, typeLabel } from "../../alarms.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";

const WORDS = {
  ack: { title: "Acknowledge the alarm", button: "Acknowledge", hint: "Others see that someone is on it." },
  clear: { title: "Clear the alarm", button: "Clear", hint: "It ends now, whatever its condition; a new one is raised if it happens again." },
};

// Acknowledging or clearing `alarm` (`action`: "ack" or "clear"), with an
// optional comment, in a modal dialog: Escape or Cancel closes it, and the focus
// goes back where it was (or to `onFocusLost()` when that button is gone, as an
// Acknowledge button is once the alarm is). `onDone(alarm)` gets the alarm as the
// server answered.
export function AlarmAction({ alarm, action, onDone, onClose, onFocusLost }) {
  const { api } = useSession();
  const dialog = useRef(null);
  const titleId = useId();
  const [comment, setComment] = useState("");
  const words = WORDS[action];
  const focusLost = useRef(onFocusLost);
  focusLost.current = onFocusLost;

  useEffect(() => {
    const opener = document.activeElement;
    const box = dialog.current;
    if (box && !box.open) {
      if (typeof box.showModal === "function") box.showModal();
      else box.setAttribute("open", "");
    }
    return () => {
      if (box?.open && typeof box.close === "function") box.close();
      if (opener?.isConnected) opener.focus();
      else focusLost.current?.();
    };
  }, []);

  const submit = useCallback(async () => {
    onDone(await api.post(`/api/alarms/${alarm.id}/${action}`, actionBody(comment)));
  }, [api, alarm.id, action, comment, onDone]);
  const { run, busy, error } = useAction(submit);

  return (
    <dialog
      ref={dialog}
      className="alarm-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <article>
        <h2 id={titleId}>{words.title}</h2>
        <p>
          {severityLabel(alarm.severity)} · {typeLabel(alarm.type)} · {alarm.originator?.name}
        </p>
        <blockquote>{alarm.message}</blockquote>
        <ActionForm run={run} aria-label={words.title}>
          <Field
            as="textarea"
            label="Comment (optional)"
            name="comment"
            rows={3}
            maxLength={COMMENT_MAX}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            error={error}
            hint={`${words.hint} Up to ${COMMENT_MAX} characters.`}
            autoFocus
          />
          <FormError error={error} />
          <div className="actions">
            <SubmitButton busy={busy}>{words.button}</SubmitButton>
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </ActionForm>
      </article>
    </dialog>
  );
}
