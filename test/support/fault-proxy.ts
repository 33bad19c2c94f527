// An HTTP reverse proxy between SDK clients and moto that records every request and can answer
// chosen ones itself with AWS-shaped faults (throttling, 500, AccessDenied), delay them, reset
// the connection, or never answer. moto has no fault injection of its own (getmoto/moto#722).
// Requests are forwarded byte for byte with the original Host header, so SigV4 signatures still
// verify when moto's IAM enforcement is on.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface ProxiedRequest {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  method: string;
  path: string;
  /** From the SigV4 credential scope, e.g. "s3", "ec2", "sts". */
  service: string | null;
  region: string | null;
  /** The API operation: X-Amz-Target's operation, the Action= parameter, or derived from S3's method and path. */
  action: string | null;
  /** S3 bucket and key when the request is path-style S3. */
  bucket: string | null;
  key: string | null;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived and when its response finished. */
  startedAt: number;
  endedAt: number | null;
  status: number | null;
  /** The fault applied, if any. */
  fault: Fault["kind"] | null;
}

export type Fault =
  /** HTTP 400 Throttling / ThrottlingException / RequestLimitExceeded (EC2: 503), S3: 503 SlowDown. */
  | { kind: "throttle" }
  /** HTTP 500 InternalError in the service's error format. */
  | { kind: "serverError" }
  /** AccessDenied (EC2: UnauthorizedOperation, JSON services: AccessDeniedException). */
  | { kind: "accessDenied" }
  /** Waits, then forwards. */
  | { kind: "latency"; ms: number }
  /** Destroys the connection without answering (ECONNRESET / socket hang up in the SDK). */
  | { kind: "reset" }
  /** Never answers; the client's own timeout has to end it. */
  | { kind: "timeout" }
  /** Any canned answer. */
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string };

export interface FaultRule {
  match: (request: ProxiedRequest) => boolean;
  fault: Fault;
  /** Applies to this many matching requests, then is spent. Default: unlimited. */
  times?: number;
  /** Chance (0–1) that a matching request gets the fault. Default 1. */
  probability?: number;
}

export interface FaultProxy {
  endpoint: string;
  addRule(rule: FaultRule): void;
  clearRules(): void;
  /** Every request seen since start (or since clearRequests), in arrival order. */
  readonly requests: ProxiedRequest[];
  clearRequests(): void;
  stop(): Promise<void>;
}

/** Matchers for the common cases. */
export const on = {
  action: (action: string) => (r: ProxiedRequest) => r.action === action,
  service: (service: string) => (r: ProxiedRequest) => r.service === service,
  any: () => () => true,
};

export async function startFaultProxy(target: string, options: { random?: () => number } = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = options.random ?? Math.random;
  const rules: { rule: FaultRule; remaining: number }[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  const pickFault = (request: ProxiedRequest): Fault | null => {
    for (const entry of rules) {
      if (entry.remaining <= 0 || !entry.rule.match(request)) continue;
      if (entry.rule.probability !== undefined && random() >= entry.rule.probability) continue;
      entry.remaining -= 1;
      return entry.rule.fault;
    }
    return null;
  };

  const server = http.createServer(async (req, res) => {
    const arrivedAt = performance.now();
    const body = await readBody(req);
    const request = describe(req, body, ++seq, arrivedAt);
    requests.push(request);
    res.on("finish", () => {
      request.endedAt = performance.now();
      request.status = res.statusCode;
    });

    const fault = pickFault(request);
    request.fault = fault?.kind ?? null;
    if (fault?.kind === "latency") await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === "reset") {
      req.socket.destroy();
    } else if (fault?.kind === "timeout") {
      // held open until the client gives up or stop() destroys the socket
    } else if (fault && fault.kind !== "latency") {
      sendFault(res, request, fault);
    } else {
      forward(upstream, req, body, res);
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    addRule(rule) {
      rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clearRules() {
      rules.length = 0;
    },
    requests,
    clearRequests() {
      requests.length = 0;
    },
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function forward(upstream: URL, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) {
  const headers = { ...req.headers };
  // The body is already buffered, so there is nothing to "continue"; `expect` is never signed.
  delete headers.expect;
  const outgoing = http.request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
    (incoming) => {
      res.writeHead(incoming.statusCode ?? 502, incoming.headers);
      incoming.pipe(res);
    },
  );
  outgoing.on("error", () => res.destroy());
  outgoing.end(body);
}

/**
 * Sends a request the proxy recorded (or is holding) to `target` itself, as the proxy would have
 * forwarded it, and returns the answer: AWS acts on it while the client never hears back.
 */
export function sendTo(target: string, request: ProxiedRequest): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const upstream = new URL(target);
  const headers = { ...request.headers };
  delete headers.expect;
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.path, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

const CREDENTIAL_SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

function describe(req: http.IncomingMessage, body: Buffer, seq: number, startedAt: number): ProxiedRequest {
  const url = new URL(req.url ?? "/", "http://proxy");
  const auth = req.headers.authorization ?? "";
  const scope = CREDENTIAL_SCOPE.exec(auth) ?? CREDENTIAL_SCOPE.exec(`Credential=${url.searchParams.get("X-Amz-Credential") ?? ""}`);
  const service = scope?.[2] ?? null;
  const text = body.toString("utf8");
  const target = req.headers["x-amz-target"];
  let action: string | null = null;
  let bucket: string | null = null;
  let key: string | null = null;
  if (typeof target === "string") {
    action = target.slice(target.lastIndexOf(".") + 1); // "secretsmanager.CreateSecret" → "CreateSecret"
  } else if (url.searchParams.get("Action")) {
    action = url.searchParams.get("Action");
  } else if (String(req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")) {
    action = new URLSearchParams(text).get("Action");
  }
  if (service === "s3") {
    const [, first, ...rest] = url.pathname.split("/");
    bucket = first ? decodeURIComponent(first) : null;
    key = rest.length > 0 && rest.join("/") !== "" ? decodeURIComponent(rest.join("/")) : null;
    action ??= s3Operation(req.method ?? "GET", bucket, key, url.searchParams);
  }
  return {
    seq,
    method: req.method ?? "GET",
    path: req.url ?? "/",
    service,
    region: scope?.[1] ?? null,
    action,
    bucket,
    key,
    headers: req.headers,
    body: text,
    startedAt,
    endedAt: null,
    status: null,
    fault: null,
  };
}

/** The S3 REST operation for a path-style request (the common ones; unknown ones get METHOD Bucket/Object). */
export function s3Operation(method: string, bucket: string | null, key: string | null, query: URLSearchParams): string {
  if (!bucket) return method === "GET" ? "ListBuckets" : `${method}Service`;
  const has = (name: string) => query.has(name);
  if (key) {
    if (has("tagging")) return { GET: "GetObjectTagging", PUT: "PutObjectTagging", DELETE: "DeleteObjectTagging" }[method] ?? `${method}ObjectTagging`;
    if (has("uploads")) return "CreateMultipartUpload";
    if (has("uploadId")) return { PUT: "UploadPart", POST: "CompleteMultipartUpload", DELETE: "AbortMultipartUpload", GET: "ListParts" }[method] ?? "Multipart";
    return { GET: "GetObject", PUT: "PutObject", DELETE: "DeleteObject", HEAD: "HeadObject" }[method] ?? `${method}Object`;
  }
  if (has("location")) return "GetBucketLocation";
  if (has("lifecycle")) return { GET: "GetBucketLifecycleConfiguration", PUT: "PutBucketLifecycleConfiguration", DELETE: "DeleteBucketLifecycle" }[method] ?? "BucketLifecycle";
  if (has("acl")) return method === "GET" ? "GetBucketAcl" : "PutBucketAcl";
  if (has("policy")) return { GET: "GetBucketPolicy", PUT: "PutBucketPolicy", DELETE: "DeleteBucketPolicy" }[method] ?? "BucketPolicy";
  if (has("delete") && method === "POST") return "DeleteObjects";
  if (method === "GET") return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
  return { PUT: "CreateBucket", DELETE: "DeleteBucket", HEAD: "HeadBucket" }[method] ?? `${method}Bucket`;
}

type Protocol = "s3" | "ec2" | "query" | "json";

function protocolOf(request: ProxiedRequest): Protocol {
  if (request.service === "s3") return "s3";
  if (request.headers["x-amz-target"]) return "json";
  return request.service === "ec2" ? "ec2" : "query";
}

// Error codes and statuses as AWS sends them, per protocol and fault.
const FAULTS: Record<Protocol, Record<"throttle" | "serverError" | "accessDenied", [number, string, string]>> = {
  s3: {
    throttle: [503, "SlowDown", "Please reduce your request rate."],
    serverError: [500, "InternalError", "We encountered an internal error. Please try again."],
    accessDenied: [403, "AccessDenied", "Access Denied"],
  },
  ec2: {
    throttle: [503, "RequestLimitExceeded", "Request limit exceeded."],
    serverError: [500, "InternalError", "An internal error has occurred"],
    accessDenied: [403, "UnauthorizedOperation", "You are not authorized to perform this operation."],
  },
  query: {
    throttle: [400, "Throttling", "Rate exceeded"],
    serverError: [500, "InternalFailure", "An internal error has occurred"],
    accessDenied: [403, "AccessDenied", "User is not authorized to perform this action"],
  },
  json: {
    throttle: [400, "ThrottlingException", "Rate exceeded"],
    serverError: [500, "InternalServiceError", "An internal error has occurred"],
    accessDenied: [400, "AccessDeniedException", "User is not authorized to perform this action"],
  },
};

function sendFault(res: http.ServerResponse, request: ProxiedRequest, fault: Fault) {
  if (fault.kind === "respond") {
    res.writeHead(fault.status, fault.headers ?? {});
    res.end(fault.body ?? "");
    return;
  }
  if (fault.kind !== "throttle" && fault.kind !== "serverError" && fault.kind !== "accessDenied") return;
  const protocol = protocolOf(request);
  const [status, code, message] = FAULTS[protocol][fault.kind];
  const requestId = `fault-proxy-${request.seq}`;
  let contentType = "text/xml";
  let body: string;
  const headers: Record<string, string> = { "x-amzn-requestid": requestId };
  switch (protocol) {
    case "s3":
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
      break;
    case "ec2":
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      break;
    case "query":
      body = `<ErrorResponse><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      break;
    case "json":
      contentType = "application/x-amz-json-1.1";
      headers["x-amzn-errortype"] = code;
      body = JSON.stringify({ __type: code, message });
      break;
  }
  // HEAD responses carry no body; the SDK then names the error from the status alone.
  if (request.method === "HEAD") body = "";
  res.writeHead(status, { ...headers, "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
