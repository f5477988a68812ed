import { useEffect, useRef, useState } from "react";
import { Link, useLocation } from "react-router-dom";
import { ErrorMessage, Loading } from "../components/Status.jsx";
import { useSession } from "../session.jsx";
import { linkToken } from "../theme.js";

// The page an e-mailed address confirmation opens: `/confirm-email#token=…`, for a
// new address of an account or for the address a new account signed up with.
export default function ConfirmEmail() {
  const { api, user, setUser } = useSession();
  const location = useLocation();
  const token = linkToken(location.hash);
  const [state, setState] = useState({ loading: Boolean(token), error: null, email: null });
  const asked = useRef(false);
  useEffect(() => {
    if (!token || asked.current) return;
    asked.current = true;
    api
      .post("/api/auth/email/confirm", { token }, { anonymous: true })
      .then((account) => {
        setState({ loading: false, error: null, email: account.email });
        if (user && user.id === account.id) setUser({ ...user, email: account.email });
      })
      .catch((error) => setState({ loading: false, error, email: null }));
  }, [api, token, user, setUser]);
  return (
    <section className="narrow">
      <h1>Confirm your e-mail address</h1>
      {!token && <p role="alert">This page needs the link from the e-mail.</p>}
      {state.loading && <Loading label="Confirming…" />}
      <ErrorMessage error={state.error} />
      {state.email && (
        <p role="status" data-testid="email-confirmed">
          {state.email} is confirmed: your account uses it{user ? "" : ". Sign in with it"}.
        </p>
      )}
      <p>
        <Link to={user ? "/account" : "/login"}>{user ? "Back to your account" : "Sign in"}</Link>
      </p>
    </section>
  );
}
