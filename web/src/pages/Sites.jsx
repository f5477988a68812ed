import { lazy, Suspense, useCallback, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { DataTable } from "../components/DataTable.jsx";
import { FormError } from "../components/Field.jsx";
import { Loading, Resource } from "../components/Status.jsx";
import { useAction, useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { describeTariff, SITE_ROLES, siteBody, siteForm } from "../sites.js";
import { useSession } from "../session.jsx";
import { SiteFields } from "./sites/SiteFields.jsx";

// The map and its base layer load with this page only.
const SiteMap = lazy(() => import("./sites/SiteMap.jsx"));

function AddSite({ onAdded }) {
  const { api } = useSession();
  const [form, setForm] = useState(siteForm(null));
  const add = useCallback(async () => onAdded(await api.post("/api/sites", siteBody(form))), [api, form, onAdded]);
  const { run, busy, error } = useAction(add);
  return (
    <details className="add-site">
      <summary role="button" className="outline">
        Add a site
      </summary>
      <form
        aria-label="Add a site"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
        <SiteFields form={form} setForm={setForm} error={error} />
        <FormError error={error} />
        <button type="submit" aria-busy={busy} disabled={busy}>
          Add site
        </button>
      </form>
    </details>
  );
}

// The caller's role on a site, or "–" for staff who read it as staff.
function roleOn(site, userId) {
  const member = (site.members || []).find((one) => one.user_id === userId);
  return member ? SITE_ROLES[member.role] : "–";
}

export default function Sites() {
  const { api, user } = useSession();
  const navigate = useNavigate();
  const sites = useResource((signal) => api.get("/api/sites", { signal }), []);
  return (
    <section>
      <h1>Sites</h1>
      {can(user, "devices.create_site") && <AddSite onAdded={(site) => navigate(`/sites/${site.id}`)} />}
      <Resource resource={sites} empty="No sites yet." loadingLabel="Loading sites…">
        {(list) => (
          <>
            <Suspense fallback={<Loading label="Loading the map…" />}>
              <SiteMap sites={list} />
            </Suspense>
            <DataTable caption="Sites" columns={["Site", "Address", "Time zone", "Tariff", "Your role"]} data-testid="sites">
              {list.map((site) => (
                <tr key={site.id}>
                  <td>
                    <Link to={`/sites/${site.id}`}>{site.name}</Link>
                  </td>
                  <td>{site.address || "–"}</td>
                  <td>{site.timezone}</td>
                  <td>{describeTariff(site.tariff)}</td>
                  <td>{roleOn(site, user.id)}</td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </Resource>
    </section>
  );
}
