// Who is signed in, and the one API client and live connection of that session.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { createClient } from "./api.js";
import { LiveConnection } from "./live.js";
import { clearToken, endReasonText, loadToken, saveToken, secondsLeft } from "./session.js";
import { showEnergyIn, showTimesIn } from "./format.js";
import { applyTheme } from "./theme.js";

const SessionContext = createContext(null);

export function SessionProvider({ children }) {
  const [token, setToken] = useState(() => loadToken());
  const [user, setUser] = useState(null);
  const [checking, setChecking] = useState(() => Boolean(loadToken()));
  const [notice, setNotice] = useState(null); // why the last session ended
  const [liveStatus, setLiveStatus] = useState("closed");
  const tokenRef = useRef(token);
  const liveRef = useRef(null);
  tokenRef.current = token;

  // Ends the session on this side: forget the token, close the socket, say why.
  const endSession = useCallback((reason) => {
    if (!tokenRef.current) return;
    tokenRef.current = null;
    clearToken();
    setToken(null);
    setUser(null);
    setChecking(false);
    setNotice(reason ? endReasonText(reason) : null);
  }, []);

  const api = useMemo(
    () =>
      createClient({
        getToken: () => tokenRef.current,
        onUnauthorized: () => endSession("unauthorized"),
      }),
    [endSession],
  );

  // A stored token is checked once: the user it names, or the reason it is gone.
  useEffect(() => {
    if (!token || user) return undefined;
    let cancelled = false;
    setChecking(true);
    api
      .get("/api/auth/me")
      .then((me) => !cancelled && setUser(me))
      .catch(() => {})
      .finally(() => !cancelled && setChecking(false));
    return () => {
      cancelled = true;
    };
  }, [token, user, api]);

  // Instants on the account's clock and energy in its unit, set as the account
  // is known (before the pages it holds render).
  showTimesIn(user?.time_zone);
  showEnergyIn(user?.units);

  // The account's theme, or the system's before anyone signs in.
  useEffect(() => applyTheme(user?.theme), [user?.theme]);

  // The token's own expiry signs the user out even with the socket down.
  useEffect(() => {
    if (!token) return undefined;
    const left = secondsLeft(token);
    const timer = setTimeout(() => endSession("expired"), Math.max(0, left * 1000));
    return () => clearTimeout(timer);
  }, [token, endSession]);

  // One live connection per signed-in session.
  useEffect(() => {
    if (!token || !user) return undefined;
    const live = new LiveConnection({
      token,
      onSessionEnded: endSession,
      onStatus: setLiveStatus,
      checkSession: () =>
        api.get("/api/auth/me").then(
          () => true,
          (error) => error.status !== 401,
        ),
    });
    liveRef.current = live;
    live.start();
    return () => {
      live.stop();
      if (liveRef.current === live) liveRef.current = null;
    };
  }, [token, user, api, endSession]);

  const login = useCallback(
    async (email, password) => {
      const result = await api.post("/api/auth/login", { email, password }, { anonymous: true });
      saveToken(result.access_token);
      tokenRef.current = result.access_token;
      const me = await api.get("/api/auth/me");
      setNotice(null);
      setUser(me);
      setToken(result.access_token);
      return me;
    },
    [api],
  );

  const logout = useCallback(async () => {
    // The socket goes first: the server's session.ended for this very logout
    // must not read as a session ended elsewhere.
    liveRef.current?.stop();
    try {
      await api.post("/api/auth/logout");
    } catch {
      // The token is forgotten here whatever the server said.
    }
    endSession(null);
  }, [api, endSession]);

  const value = useMemo(
    () => ({
      api,
      user,
      token,
      checking,
      notice,
      liveStatus,
      live: () => liveRef.current,
      login,
      logout,
      endSession,
      // The account as the server answered a change of it (PATCH /api/auth/me).
      setUser,
      clearNotice: () => setNotice(null),
    }),
    [api, user, token, checking, notice, liveStatus, login, logout, endSession],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession() {
  return useContext(SessionContext);
}

// Calls `listener` for every live message of `type` while the component is shown.
export function useLive(type, listener) {
  const { live, liveStatus } = useSession();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    const connection = live();
    if (!connection) return undefined;
    return connection.subscribe(type, (message) => ref.current(message));
  }, [type, live, liveStatus]);
}
