// GraphQL over WebSocket (the graphql-ws protocol) on the HTTP server's port and path.
// graphql-ws's own `ws` adapter prints errors to the console with their stack and closes the
// socket with 4500, which any client can trigger (an oversized message is enough); this one logs
// through the JSON logger and closes with the standard codes: 1009 for a message over
// `maxPayload` (ws does that itself), 1011 for a bug (the log line has a correlation id), 1001 on
// shutdown. Like use/ws, it pings every 12 s and drops a connection that stops answering.
import { randomUUID } from "node:crypto";
import type http from "node:http";
import { handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../logging/logger.js";
import { requestIdOf } from "./request-logging.js";

export interface WebSocketExtra {
  socket: WebSocket;
  request: http.IncomingMessage;
  /** The connection's request id (the caller's X-Request-Id, or generated). */
  connectionId: string;
}

export interface WebSocketSettings {
  path: string;
  maxPayloadBytes: number;
  logger: Logger;
  keepAliveMs?: number;
}

export function serveGraphqlOverWebSocket<P extends Record<string, unknown> | undefined>(
  httpServer: http.Server,
  options: ServerOptions<P, WebSocketExtra>,
  { path, maxPayloadBytes, logger, keepAliveMs = 12_000 }: WebSocketSettings,
) {
  const wss = new WebSocketServer({ server: httpServer, path, maxPayload: maxPayloadBytes, handleProtocols: (protocols) => handleProtocols(protocols) });
  const server = makeServer(options);
  wss.on("error", (error) => logger.error({ err: error }, "websocket server error"));
  wss.on("connection", (socket, request) => {
    const started = process.hrtime.bigint();
    const connectionId = requestIdOf(request.headers);
    const log = logger.child({ requestId: connectionId });
    // ws reports protocol violations here (an oversized message, a bad frame) and has already
    // closed the connection with the right code; nothing is left to do but note it.
    socket.on("error", (error) => log.warn({ reason: error.message }, "websocket connection error"));
    let pongWait: NodeJS.Timeout | undefined;
    const pinger = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once("pong", () => clearTimeout(pongWait));
      socket.ping();
    }, keepAliveMs);
    const close = (code: number, reason: string) => {
      if (socket.readyState === socket.OPEN) socket.close(code, reason);
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close,
        onMessage: (handle) =>
          socket.on("message", async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              if (socket.readyState !== socket.OPEN) return; // the client left while it was being answered
              const correlationId = randomUUID();
              log.error({ err: error, correlationId }, "unexpected error");
              close(1011, `Internal server error (correlation id ${correlationId}).`);
            }
          }),
      },
      { socket, request, connectionId },
    );
    socket.once("close", (code, reason) => {
      clearInterval(pinger);
      clearTimeout(pongWait);
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      log.info({ method: "WEBSOCKET", path, closeCode: code, ms }, "websocket closed");
      closed(code, String(reason)).catch((error: unknown) => log.error({ err: error }, "websocket clean-up failed"));
    });
  });
  return {
    async dispose(): Promise<void> {
      for (const client of wss.clients) client.close(1001, "Going away");
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
