// Reading job and runner logs (FilterLogEvents) one page at a time with AWS's own opaque token.
// A log group that does not exist yet (nothing has run) is an empty page, not an error.
import type { FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import type { AwsSession } from "../discovery.js";
import { attempt, type AwsResult } from "../errors.js";
import { sdk } from "../sdk.js";

export interface LogEventsQuery {
  group: string;
  streamPrefix?: string | null;
  /** Inclusive, epoch milliseconds or Date. */
  startTime?: number | Date | null;
  /** Inclusive, epoch milliseconds or Date. */
  endTime?: number | Date | null;
  /** Events per page, 1 to 10 000. */
  limit: number;
  nextToken?: string | null;
}

export interface LogEvent {
  timestamp: Date;
  stream: string;
  message: string;
}

export interface LogEventsPage {
  events: LogEvent[];
  /** Pass back to get the next page; absent on the last page. */
  nextToken?: string;
}

/** AWS may answer with empty pages that still carry a token; follow at most this many in one call. */
const MAX_EMPTY_PAGES = 5;

const millis = (value: number | Date | null | undefined) => (value == null ? undefined : value instanceof Date ? value.getTime() : value);

/**
 * One page of events of `group` (optionally only streams starting with `streamPrefix`), oldest first.
 * The prefix is also applied to the answer, because some endpoints (moto) ignore logStreamNamePrefix.
 */
export async function filterLogEvents(session: AwsSession, region: string, query: LogEventsQuery): Promise<AwsResult<LogEventsPage>> {
  const { paginateFilterLogEvents } = await sdk.logs();
  const logs = await session.factory.client("logs", region, session.credentials);
  const limit = Math.min(Math.max(Math.trunc(query.limit) || 1, 1), 10_000);
  const prefix = query.streamPrefix || undefined;
  const input = { logGroupName: query.group, logStreamNamePrefix: prefix, startTime: millis(query.startTime), endTime: millis(query.endTime), limit };
  const result = await attempt("logs", "FilterLogEvents", async () => {
    let events: LogEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    // Starts at the caller's token; stops at the first page with events (or the bound on empty ones).
    for await (const page of paginateFilterLogEvents({ client: logs, startingToken: query.nextToken || undefined }, input)) {
      events = (page.events ?? []).filter((event) => !prefix || (event.logStreamName ?? "").startsWith(prefix)).map(toLogEvent);
      nextToken = page.nextToken || undefined;
      if (events.length > 0 || ++pages >= MAX_EMPTY_PAGES) break;
    }
    return nextToken ? { events, nextToken } : { events };
  });
  if (!result.ok && result.error.code === "ResourceNotFoundException") return { ok: true, value: { events: [] } };
  return result;
}

function toLogEvent(event: FilteredLogEvent): LogEvent {
  return { timestamp: new Date(event.timestamp ?? 0), stream: event.logStreamName ?? "", message: event.message ?? "" };
}
