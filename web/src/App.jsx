import { lazy, Suspense } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import Layout from "./components/Layout.jsx";
import { Loading } from "./components/Status.jsx";
import Devices from "./pages/Devices.jsx";
import Login from "./pages/Login.jsx";
import Signup from "./pages/Signup.jsx";
import { can, OPERATIONS } from "./permissions.js";
import { useSession } from "./session.jsx";

// The other pages (and the chart library) load when first opened.
const Account = lazy(() => import("./pages/Account.jsx"));
const ConfirmEmail = lazy(() => import("./pages/ConfirmEmail.jsx"));
const ForgotPassword = lazy(() => import("./pages/ForgotPassword.jsx"));
const ResetPassword = lazy(() => import("./pages/ResetPassword.jsx"));
const AdminSupport = lazy(() => import("./pages/AdminSupport.jsx"));
const Alarms = lazy(() => import("./pages/Alarms.jsx"));
const AdminUsers = lazy(() => import("./pages/AdminUsers.jsx"));
const Analytics = lazy(() => import("./pages/Analytics.jsx"));
const Audit = lazy(() => import("./pages/Audit.jsx"));
const Batteries = lazy(() => import("./pages/Batteries.jsx"));
const Consumption = lazy(() => import("./pages/Consumption.jsx"));
const DrEvents = lazy(() => import("./pages/DrEvents.jsx"));
const Home = lazy(() => import("./pages/Home.jsx"));
const Operations = lazy(() => import("./pages/Operations.jsx"));
const Notifications = lazy(() => import("./pages/Notifications.jsx"));
const NotificationPreferences = lazy(() => import("./pages/NotificationPreferences.jsx"));
const Site = lazy(() => import("./pages/Site.jsx"));
const Sites = lazy(() => import("./pages/Sites.jsx"));
const Support = lazy(() => import("./pages/Support.jsx"));
const Trading = lazy(() => import("./pages/Trading.jsx"));

// A page for signed-in users (whose account may take the action `may`, when given).
function Private({ may, children }) {
  const { user, token, checking } = useSession();
  const location = useLocation();
  if (token && (checking || !user)) return <Loading label="Signing you in…" />;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (may && !can(user, may)) {
    return (
      <section>
        <h1>Not available</h1>
        <p role="alert">Your account may not use this page.</p>
      </section>
    );
  }
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

export default function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route path="/login" element={<Login />} />
        <Route path="/signup" element={<Signup />} />
        <Route path="/forgot-password" element={<Suspense fallback={<Loading />}><ForgotPassword /></Suspense>} />
        <Route path="/reset-password" element={<Suspense fallback={<Loading />}><ResetPassword /></Suspense>} />
        <Route path="/confirm-email" element={<Suspense fallback={<Loading />}><ConfirmEmail /></Suspense>} />
        <Route path="/account" element={<Private><Account /></Private>} />
        <Route path="/account/notifications" element={<Private><NotificationPreferences /></Private>} />
        <Route path="/" element={<Private><Home /></Private>} />
        <Route path="/devices" element={<Private><Devices /></Private>} />
        <Route path="/devices/:deviceId" element={<Private><Consumption /></Private>} />
        <Route path="/sites" element={<Private><Sites /></Private>} />
        <Route path="/sites/:siteId" element={<Private><Site /></Private>} />
        <Route path="/analytics" element={<Private><Analytics /></Private>} />
        <Route path="/alarms" element={<Private><Alarms /></Private>} />
        <Route path="/notifications" element={<Private><Notifications /></Private>} />
        <Route path="/support" element={<Private><Support /></Private>} />
        <Route path="/batteries" element={<Private><Batteries /></Private>} />
        <Route path="/trading" element={<Private><Trading /></Private>} />
        <Route path="/dr" element={<Private><DrEvents /></Private>} />
        <Route path="/admin/support" element={<Private may="support.read_inbox"><AdminSupport /></Private>} />
        <Route path="/admin/users" element={<Private may="users.read_users"><AdminUsers /></Private>} />
        <Route path="/audit" element={<Private may="audit.read"><Audit /></Private>} />
        <Route path="/operations" element={<Private may={OPERATIONS}><Operations /></Private>} />
        <Route path="*" element={<section><h1>Page not found</h1></section>} />
      </Route>
    </Routes>
  );
}
