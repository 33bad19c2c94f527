// Request bodies: JSON in UTF-8, up to a size limit. What body-parser refuses (too large, not
// JSON, a charset or content-encoding it cannot read) is answered in GraphQL's error shape with a
// code and a message that says what to send instead, not Express's HTML error page.
import { MIMEType } from "node:util";
import type { ErrorRequestHandler, RequestHandler, Response } from "express";

const refuse = (res: Response, status: number, code: string, message: string) => void res.status(status).json({ errors: [{ message, extensions: { code } }] });

const charsetOf = (contentType: string | undefined): string | undefined => {
  try {
    return contentType ? (new MIMEType(contentType).params.get("charset") ?? undefined) : undefined;
  } catch {
    return undefined; // not a media type at all: left to the parser and Apollo
  }
};

/**
 * JSON is UTF-8 (RFC 8259). body-parser would also decode UTF-16 and UTF-32, and a body sent in
 * another charset than the one it claims then fails as "not valid JSON", which names no fix.
 */
export const utf8BodiesOnly: RequestHandler = (req, res, next) => {
  const charset = charsetOf(req.headers["content-type"]);
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    return refuse(res, 415, "UNSUPPORTED_MEDIA_TYPE", `The request body's charset "${charset}" is not supported: send JSON encoded as UTF-8.`);
  }
  next();
};

export function jsonBodyErrors(limit: string): ErrorRequestHandler {
  return (error, req, res, next) => {
    const status = typeof error?.status === "number" ? error.status : undefined;
    if (error?.type === "entity.too.large") return refuse(res, 413, "PAYLOAD_TOO_LARGE", `Request body exceeds the ${limit} limit.`);
    if (error?.type === "encoding.unsupported") {
      const encoding = String(req.headers["content-encoding"] ?? "").toLowerCase();
      return refuse(res, 415, "UNSUPPORTED_MEDIA_TYPE", `The request body's content-encoding "${encoding}" is not supported: send it uncompressed, or as gzip, deflate or br.`);
    }
    if (error?.type === "charset.unsupported") {
      return refuse(res, 415, "UNSUPPORTED_MEDIA_TYPE", `The request body's charset "${error.charset}" is not supported: send JSON encoded as UTF-8.`);
    }
    if (status && status >= 400 && status < 500) return refuse(res, 400, "BAD_REQUEST", "Request body is not valid JSON.");
    next(error);
  };
}
