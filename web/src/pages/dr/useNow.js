import { useState } from "react";
import { useInterval } from "../../hooks.js";

// The time, moved on every 30 s so statuses follow the clock (scheduled → under
// way → finished) without asking the platform.
export function useNow() {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 30000);
  return now;
}
