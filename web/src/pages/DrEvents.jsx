import { can } from "../permissions.js";
import { useSession } from "../session.jsx";
import MyInvitations from "./dr/MyInvitations.jsx";
import StaffEvents from "./dr/StaffEvents.jsx";

// Demand response: accounts that see every event run them; everyone else answers
// their invitations.
export default function DrEvents() {
  const { user } = useSession();
  return can(user, "dr.read_all") ? <StaffEvents /> : <MyInvitations />;
}
