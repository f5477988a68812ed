import { useCallback, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { useAction } from "../hooks.js";
import { useSession } from "../session.jsx";

export default function Signup() {
  const { api, login } = useSession();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [unconfirmed, setUnconfirmed] = useState(null);
  const register = useCallback(async () => {
    const account = await api.post("/api/auth/register", form, { anonymous: true });
    // The platform may ask new accounts to confirm their address first: the
    // account logs in once the e-mailed link is followed.
    if (account?.email_verified === false) {
      setUnconfirmed(account.email);
      return;
    }
    try {
      await login(form.email, form.password);
      navigate("/devices");
    } catch {
      navigate("/login", { state: { registered: true, email: form.email } });
    }
  }, [api, form, login, navigate]);
  const { run, busy, error } = useAction(register);
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const conflict = error?.status === 409;
  if (unconfirmed) {
    return (
      <section className="narrow">
        <h1>Check your inbox</h1>
        <p role="status" data-testid="signup-check-inbox">
          We sent a link to {unconfirmed}. Follow it to confirm your address, then sign in. The link works once, for
          30 minutes.
        </p>
        <p>
          No e-mail? <Link to="/login" state={{ email: unconfirmed }}>Sign in</Link> to have it sent again.
        </p>
      </section>
    );
  }
  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <form
        aria-label="Create an account"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
        <Field label="Name" name="name" autoComplete="name" required value={form.name} onChange={change} error={error} />
        <Field label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={change} error={error} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={form.password}
          onChange={change}
          error={error}
          hint="At least 8 characters."
        />
        {conflict ? (
          <p role="alert" className="field-error">
            An account with this email exists. <Link to="/login">Sign in</Link> instead.
          </p>
        ) : (
          <FormError error={error} />
        )}
        <button type="submit" aria-busy={busy} disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Have an account? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}
