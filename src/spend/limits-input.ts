// Bounds of the limit values, shared by setProjectLimits and launchInstance.
import type { UserErrorData } from "../errors/codes.js";
import { invalid } from "../errors/validation.js";

/** A year. */
export const MAX_DURATION_MINUTES_LIMIT = 525_600;
export const MAX_LIVE_INSTANCES_LIMIT = 100_000;

/** A run-time limit in minutes: a whole number from 1 to a year; null/undefined pass. */
export function checkMaxDuration(value: number | null | undefined, field: string[]): UserErrorData | null {
  if (value == null) return null;
  if (Number.isInteger(value) && value >= 1 && value <= MAX_DURATION_MINUTES_LIMIT) return null;
  return invalid(field, `${field.at(-1)} must be a whole number of minutes from 1 to ${MAX_DURATION_MINUTES_LIMIT} (a year).`);
}
