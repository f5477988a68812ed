import { useSession } from "../session.jsx";
import MyInvitations from "./dr/MyInvitations.jsx";
import StaffEvents from "./dr/StaffEvents.jsx";

// Demand response: staff run events; everyone else answers their invitations.
export default function DrEvents() {
  const { user } = useSession();
  return user.role === "OPERATOR" || user.role === "ADMIN" ? <StaffEvents /> : <MyInvitations />;
}
