/** Seconds as a short duration in words: `45 s`, `12 min`, `2 h 3 min`, `3 d 4 h`. */
export function durationText(totalSeconds: number): string {
  const s = Math.round(Math.abs(totalSeconds));
  if (s < 60) {
    return `${s} s`;
  }
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** A claim time (seconds since epoch) relative to now: `in 2 h 3 min`, `5 min ago`. */
export function relativeText(seconds: number, nowMs: number): string {
  const delta = seconds - nowMs / 1000;
  return delta >= 0
    ? `in ${durationText(delta)}`
    : `${durationText(delta)} ago`;
}

/** A claim time as ISO 8601, or a description when it is not a usable time. */
export function isoText(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number') {
    return undefined;
  }
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
