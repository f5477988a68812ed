import { useState } from "react";
import { Link, Navigate, useLocation } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { useAction } from "../hooks.js";
import { useSession } from "../session.jsx";

export default function Login() {
  const { api, user, login, notice, clearNotice } = useSession();
  const location = useLocation();
  const [email, setEmail] = useState(location.state?.email || "");
  const [password, setPassword] = useState("");
  const { run, busy, error } = useAction(login);
  // An account still to be confirmed: its link is sent again on request.
  const [resent, setResent] = useState(null);
  const resend = useAction(async (address) => {
    await api.post("/api/auth/verification/resend", { email: address }, { anonymous: true });
    setResent(address);
  });
  if (user) return <Navigate to={location.state?.from || "/"} replace />;

  const submit = (event) => {
    event.preventDefault();
    clearNotice();
    setResent(null);
    run(email, password);
  };
  const unconfirmed = error?.code === "EMAIL_NOT_VERIFIED";
  let message = error?.message;
  if (error?.status === 429) {
    message = `Too many failed attempts. Try again in ${error.retryAfter || "a few"} seconds.`;
  } else if (error?.status === 401) {
    message = "The email or the password is wrong.";
  } else if (unconfirmed) {
    message = "Confirm your e-mail address first: follow the link we e-mailed you when you signed up.";
  }
  let resendError = resend.error;
  if (resendError?.status === 429) {
    resendError = { ...resendError, message: `Too many requests. Try again in ${resendError.retryAfter || "a few"} seconds.` };
  }
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      {notice && (
        <p role="alert" className="notice" data-testid="session-notice">
          {notice}
        </p>
      )}
      {location.state?.registered && <p role="status">Your account is ready. Sign in to start.</p>}
      {location.state?.passwordReset && (
        <p role="status" data-testid="password-reset-done">
          Your new password is set. Sign in with it.
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <Field label="Email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} error={error} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={error} />
        {message && (
          <p role="alert" className="field-error">
            {message}
          </p>
        )}
        <button type="submit" aria-busy={busy} disabled={busy}>
          Sign in
        </button>
      </form>
      {unconfirmed &&
        (resent ? (
          <p role="status" data-testid="verification-resent">
            A new link is on its way to {resent}. The one sent before no longer works.
          </p>
        ) : (
          <div data-testid="verification-needed">
            <button type="button" className="secondary" aria-busy={resend.busy} disabled={resend.busy} onClick={() => resend.run(email)}>
              Send the link again
            </button>
            <FormError error={resendError} />
          </div>
        ))}
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}
