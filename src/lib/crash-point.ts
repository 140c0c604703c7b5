/**
 * Named points where a crash-recovery test kills the process (SIGKILL, nothing runs after), such as "between a
 * send and its record". Off unless MEDUSA_CRASH_AT names one; then the process dies the Nth time it passes there.
 */
export type CrashPoint = (name: string) => void;

export function createCrashPoint(spec: string | undefined): CrashPoint {
  if (!spec) return () => {};
  const [target = "", nth = "1"] = spec.split(":");
  let seen = 0;
  return (name) => {
    if (name !== target || ++seen < Number(nth)) return;
    process.kill(process.pid, "SIGKILL");
  };
}
