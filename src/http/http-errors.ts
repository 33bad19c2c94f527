// Body-parser failures (oversized or malformed JSON) answered in GraphQL's error shape with a
// code, instead of Express's HTML error page.
import type { ErrorRequestHandler } from "express";

export function jsonBodyErrors(limit: string): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const status = typeof error?.status === "number" ? error.status : undefined;
    if (error?.type === "entity.too.large") {
      res.status(413).json({ errors: [{ message: `Request body exceeds the ${limit} limit.`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
      return;
    }
    if (status && status >= 400 && status < 500) {
      res.status(400).json({ errors: [{ message: "Request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] });
      return;
    }
    next(error);
  };
}
