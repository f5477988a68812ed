import { useCallback } from "react";
import { Resource } from "../../components/Status.jsx";
import { applyPush, upsertEvent } from "../../dr.js";
import { useResource } from "../../hooks.js";
import { DR_EVENT } from "../../pushes.generated.js";
import { useLive, useSession } from "../../session.jsx";
import { InvitationCard } from "./InvitationCard.jsx";
import { useNow } from "./useNow.js";
import "./dr.css";
import "./MyInvitations.css";

// A household's demand-response invitations, answered live.
export default function MyInvitations() {
  const { api, liveStatus } = useSession();
  const now = useNow();
  const events = useResource((signal) => api.get("/api/dr/events", { signal }), [liveStatus === "open"]);
  useLive(DR_EVENT, (message) => events.setData((list) => applyPush(list, message.data)));
  const changed = useCallback(
    (event) => events.setData((list) => upsertEvent(list, event)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return (
    <section className="dr">
      <h1>Demand response</h1>
      <p>
        When the grid is under strain, your energy provider asks you to use less for a few hours. Opt in, use less than
        usual in those hours, and you are paid for each kWh saved.
      </p>
      <Resource
        resource={events}
        empty="You have no invitations yet. New ones appear here as they are sent."
        loadingLabel="Loading your invitations…"
      >
        {(list) => (
          <ul className="dr-cards" aria-label="Your invitations, latest first" data-testid="dr-invitations">
            {list.map((event) => (
              <InvitationCard key={event.id} event={event} now={now} onChanged={changed} />
            ))}
          </ul>
        )}
      </Resource>
    </section>
  );
}
