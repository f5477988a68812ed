import { DataTable } from "../../components/DataTable.jsx";
import { Empty } from "../../components/Status.jsx";
import { ANSWER_LABELS, personText } from "../../dr.js";
import { utcDateTime } from "../../format.js";
import "./dr.css";

// An invited user as staff know them: the name and e-mail address dr answers
// with (never an id; without them while users cannot be asked).
function Person({ invitation }) {
  if (!invitation.name) return <span className="dr-muted">{personText(invitation)}</span>;
  return (
    <span>
      {invitation.name} <small className="dr-muted">{invitation.email}</small>
    </span>
  );
}

// Who is invited to an event, and what each answered.
export function InvitationList({ invitations }) {
  if (!invitations?.length) return <Empty>Nobody is invited yet.</Empty>;
  return (
    <DataTable caption="Invited users and their answers" columns={["User", "Answer", "Since"]}>
      {invitations.map((invitation) => (
        <tr key={invitation.user_id}>
          <td>
            <Person invitation={invitation} />
          </td>
          <td>
            <span className={`dr-answer dr-answer-${invitation.status}`}>{ANSWER_LABELS[invitation.status] || invitation.status}</span>
          </td>
          <td>{utcDateTime(invitation.updated_at)}</td>
        </tr>
      ))}
    </DataTable>
  );
}
