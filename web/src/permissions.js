// What the signed-in account may do: `GET /api/auth/me` lists it as `permissions`,
// each `<service>.<action>` (`devices.create`, `dr.read_all`), derived by the
// server from the policies the services enforce. Pages decide what to show from
// it (and from an object's own `permissions`), never from the role, which they
// only display: the rules stay in one place, the server's.

// Whether `user` (the answer of /api/auth/me) may take `action`.
export function can(user, action) {
  return Array.isArray(user?.permissions) && user.permissions.includes(action);
}

// The items `user` is offered: each shown if the account may take its `may`
// action (or it has none) and may not take its `unless` action.
export function offered(items, user) {
  return items.filter((item) => (!item.may || can(user, item.may)) && !(item.unless && can(user, item.unless)));
}

// The operations page (the platform's own state and its dead letters) is for
// the accounts that may repair the platform: those who may handle its dead
// letters, the page's actions.
export const OPERATIONS = "monitoring.manage_dead_letters";
