import { useState } from "react";
import { NavLink, Outlet } from "react-router-dom";
import { OPERATIONS, offered } from "../permissions.js";
import { useSession } from "../session.jsx";
import AlarmCount from "./AlarmCount.jsx";
import LiveToasts from "./LiveToasts.jsx";

// Each section, for the accounts that may use it (`may`); the support chat is
// for those who do not answer it (staff with the inbox have that instead).
const LINKS = [
  { to: "/", label: "Overview" },
  { to: "/sites", label: "Sites" },
  { to: "/devices", label: "Devices" },
  { to: "/analytics", label: "Analytics" },
  { to: "/alarms", label: "Alarms" },
  { to: "/notifications", label: "Notifications" },
  { to: "/batteries", label: "Batteries" },
  { to: "/trading", label: "Trading" },
  { to: "/dr", label: "Demand response" },
  { to: "/support", label: "Support", unless: "support.read_inbox" },
  { to: "/admin/support", label: "Support inbox", may: "support.read_inbox" },
  { to: "/admin/users", label: "Users", may: "users.read_users" },
  { to: "/audit", label: "Audit log", may: "audit.read" },
  { to: "/operations", label: "Operations", may: OPERATIONS },
];

const LIVE_LABELS = {
  open: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  closed: "Offline",
};

export default function Layout() {
  const { user, logout, liveStatus } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const links = offered(LINKS, user);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="container app-header">
        <nav aria-label="Main">
          <ul>
            <li>
              <strong className="brand">EMS</strong>
            </li>
          </ul>
          {user && (
            <ul>
              <AlarmCount />
              <li>
                <span
                  className={`live-status live-${liveStatus}`}
                  role="status"
                  aria-label={`Live updates: ${LIVE_LABELS[liveStatus]}`}
                  title="Live updates"
                >
                  {LIVE_LABELS[liveStatus]}
                </span>
              </li>
              <li>
                <button
                  type="button"
                  className="outline menu-toggle"
                  aria-expanded={menuOpen}
                  aria-controls="main-menu"
                  onClick={() => setMenuOpen((open) => !open)}
                >
                  Menu
                </button>
              </li>
            </ul>
          )}
        </nav>
        {user && (
          <nav aria-label="Sections" id="main-menu" className={menuOpen ? "menu open" : "menu"}>
            <ul>
              {links.map((link) => (
                <li key={link.to}>
                  <NavLink to={link.to} end={link.to === "/"} onClick={() => setMenuOpen(false)}>
                    {link.label}
                  </NavLink>
                </li>
              ))}
            </ul>
            <ul>
              <li className="who">
                <span className="visually-hidden">Signed in as </span>
                <NavLink to="/account" onClick={() => setMenuOpen(false)} title="Your account">
                  {user.name}
                </NavLink>{" "}
                <small>({user.role})</small>
              </li>
              <li>
                <button type="button" className="secondary" onClick={logout}>
                  Log out
                </button>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main className="container" id="main">
        <Outlet />
      </main>
      {user && <LiveToasts />}
    </>
  );
}
