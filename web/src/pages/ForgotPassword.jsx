import { useState } from "react";
import { Link } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { useAction } from "../hooks.js";
import { useSession } from "../session.jsx";

// Asks for a password reset link. The platform answers alike for any address, so
// this page says the same whatever was typed.
export default function ForgotPassword() {
  const { api } = useSession();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const { run, busy, error } = useAction(async (address) => {
    await api.post("/api/auth/password-reset", { email: address }, { anonymous: true });
    setSent(true);
  });
  let shown = error;
  if (error?.status === 429) {
    shown = { ...error, message: `Too many requests. Try again in ${error.retryAfter || "a few"} seconds.` };
  }
  return (
    <section className="narrow">
      <h1>Forgot your password?</h1>
      {sent ? (
        <p role="status" data-testid="reset-sent">
          If an account uses {email}, an e-mail with a link to choose a new password is on its way. The link works
          once, for 30 minutes.
        </p>
      ) : (
        <form
          aria-label="Ask for a reset link"
          onSubmit={(event) => {
            event.preventDefault();
            run(email);
          }}
        >
          <p>Give the e-mail address of your account: we send it a link to choose a new password.</p>
          <Field label="Email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} error={error} />
          <FormError error={shown} />
          <button type="submit" aria-busy={busy} disabled={busy}>
            Send the link
          </button>
        </form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </section>
  );
}
