// Light or dark: the account's theme (`light`, `dark`), or the system's setting
// (`system`, and before anyone signs in). Pico CSS follows `prefers-color-scheme`
// unless the root element names a `data-theme`.

export const THEMES = ["system", "light", "dark"];

// The `data-theme` for a theme, or null to follow the system.
export function themeAttribute(theme) {
  return theme === "light" || theme === "dark" ? theme : null;
}

export function applyTheme(theme, root = globalThis.document?.documentElement) {
  if (!root) return;
  const attribute = themeAttribute(theme);
  if (attribute) root.setAttribute("data-theme", attribute);
  else root.removeAttribute("data-theme");
}

// The token of an e-mailed link: `…#token=<token>` (a fragment, which the browser
// never sends to a server).
export function linkToken(hash) {
  const params = new URLSearchParams((hash || "").replace(/^#/, ""));
  return params.get("token") || null;
}
