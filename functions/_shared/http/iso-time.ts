// Times a caller sends: ISO 8601 with a zone, checked as real calendar dates and normalised to UTC.
import { z } from "zod";

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * A real calendar date, or one with a time and `Z` or an offset (never a local time). `new Date` alone takes
 * "1", rolls 2027-02-30 over to March 2 and reads 24:00 as the next day; every date the API or the CLI accepts is
 * checked here.
 */
export function isIsoTime(value: string): boolean {
  const match = ISO_8601.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match.slice(1).map((p) =>
    Number(p ?? 0)
  );
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one
  if (
    !(month >= 1 && month <= 12 && day >= 1 && day <= lastDay.getUTCDate() &&
      hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59)
  ) return false;
  // In UTC, within years 1 to 9999: Postgres has no year 0, and toISOString writes the years around these with a
  // sign and six digits, which no timestamptz parses (the fuzz suite's `0000-01-01T00:00:00Z` was a 500).
  const utcYear = new Date(value).getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999;
}

export const ISO_TIME_PROBLEM = "Must be an ISO 8601 time with a zone, e.g. 2027-01-01T00:00:00Z";

/** An ISO 8601 time with a zone, normalised to UTC so that times compare as strings. */
export const isoInstant = z.string(ISO_TIME_PROBLEM).refine(isIsoTime, ISO_TIME_PROBLEM)
  .transform((value) => new Date(value).toISOString()).meta({ format: "date-time" });
