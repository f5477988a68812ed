import { DataTable } from "../../components/DataTable.jsx";
import { Empty } from "../../components/Status.jsx";
import { ANSWER_LABELS } from "../../dr.js";
import { utcDateTime } from "../../format.js";
import "./dr.css";

// A user as staff know them from the user directory: name, e-mail and role.
function Person({ id, directory }) {
  const person = directory[id];
  if (!person) return <code>{id}</code>;
  return (
    <span title={id}>
      {person.label} <small className="dr-muted">{person.detail}</small>
    </span>
  );
}

// Who is invited to an event, and what each answered.
export function InvitationList({ invitations, directory }) {
  if (!invitations?.length) return <Empty>Nobody is invited yet.</Empty>;
  return (
    <DataTable caption="Invited users and their answers" columns={["User", "Answer", "Since"]}>
      {invitations.map((invitation) => (
        <tr key={invitation.user_id}>
          <td>
            <Person id={invitation.user_id} directory={directory} />
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
