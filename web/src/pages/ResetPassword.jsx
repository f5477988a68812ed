import { useState } from "react";
import { Link, Navigate, useLocation } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { useAction } from "../hooks.js";
import { useSession } from "../session.jsx";
import { linkToken } from "../theme.js";

// The page an e-mailed reset link opens: `/reset-password#token=…`.
export default function ResetPassword() {
  const { api } = useSession();
  const location = useLocation();
  const token = linkToken(location.hash);
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const { run, busy, error } = useAction(async () => {
    await api.post("/api/auth/password-reset/confirm", { token, password }, { anonymous: true });
    setDone(true);
  });
  if (done) return <Navigate to="/login" replace state={{ passwordReset: true }} />;
  const gone = error?.status === 410 || error?.field?.("token");
  return (
    <section className="narrow">
      <h1>Choose a new password</h1>
      {!token ? (
        <p role="alert">This page needs the link from the e-mail.</p>
      ) : (
        <form
          aria-label="Choose a new password"
          onSubmit={(event) => {
            event.preventDefault();
            run();
          }}
        >
          <Field
            label="New password"
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            hint="At least 8 characters."
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={error}
          />
          {gone ? (
            <p role="alert" className="field-error" data-testid="link-gone">
              {error.status === 410 ? error.message : "This link is not valid."} <Link to="/forgot-password">Ask for a new link</Link>.
            </p>
          ) : (
            <FormError error={error} />
          )}
          <button type="submit" aria-busy={busy} disabled={busy}>
            Set the password
          </button>
        </form>
      )}
    </section>
  );
}
