import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { AuditOutcome } from "../../generated/prisma/enums.js";
import { ConnectionTypes } from "./connection.type.js";
import "../enums.js";

@ObjectType({ description: "One entry of the append-only, hash-chained audit log. It never holds a secret or an input value: ids, names and codes only." })
export class AuditEvent {
  @Field(() => ID, { description: "Opaque id." })
  id: string;

  @Field({ description: "When it was recorded. For auth.failure: when its window closed." })
  at: Date;

  actorId: string | null;

  @Field(() => String, { nullable: true, description: "The display prefix of the API token used (never the token)." })
  tokenPrefix: string | null;

  @Field(() => String, { nullable: true, description: "The client's address." })
  clientAddress: string | null;

  projectId: string | null;

  @Field({ description: 'The mutation\'s name (e.g. "createAwsBackend"), or an event: "auth.failure", "audit.prune", "reconciler.…".' })
  operation: string;

  @Field(() => [ID], { description: "Ids of what it acted on, from its arguments and its result." })
  targetIds: string[];

  @Field(() => AuditOutcome, { description: "How it ended." })
  outcome: AuditOutcome;

  @Field(() => [String], { description: "Error codes: the userErrors codes for USER_ERROR, the error's code for DENIED and FAILED." })
  codes: string[];

  @Field(() => String, { nullable: true, description: "The request id (the x-request-id response header), to find the request's log lines." })
  requestId: string | null;

  @Field(() => Int, { description: "How many occurrences this entry stands for: failed authentications are counted per client address and minute; 1 otherwise. (Beyond the contract.)" })
  count: number;
}

export const { Edge: AuditEventEdge, Connection: AuditEventConnection } = ConnectionTypes(AuditEvent, "AuditEvent");

@InputType({ description: "Narrows auditEvents; every field given must match." })
export class AuditEventFilter {
  @Field(() => String, { nullable: true, description: 'Exactly this operation, e.g. "deleteBackend" or "auth.failure".' })
  operation?: string | null;

  @Field(() => ID, { nullable: true, description: "Done by this user." })
  actorId?: string | null;

  @Field(() => AuditOutcome, { nullable: true, description: "Ended this way." })
  outcome?: AuditOutcome | null;

  @Field(() => Date, { nullable: true, description: "Recorded at or after this time." })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: "Recorded before this time." })
  until?: Date | null;
}

@ObjectType({ description: "The first broken link of the audit chain." })
export class AuditChainBreak {
  @Field(() => ID, { description: "The first event that does not verify." })
  eventId: string;

  @Field({ description: "Its position in the chain (1, 2, 3…; a decimal string)." })
  position: string;

  @Field({ description: "What is wrong with it." })
  problem: string;
}

@ObjectType({ description: "The result of checking the audit log's hash chain from its start (genesis, or the anchor left by retention pruning). Beyond the contract." })
export class AuditChainReport {
  @Field({ description: "True when every event verifies." })
  intact: boolean;

  @Field(() => Int, { description: "Events checked (up to and including the first broken one)." })
  checkedEvents: number;

  @Field({ description: "Position the check started after: 0, or the last event removed by retention pruning." })
  startPosition: string;

  @Field({ description: "The last verified event's position; with headHash, worth keeping outside the database to notice a truncated tail." })
  headPosition: string;

  @Field({ description: "The last verified event's hash." })
  headHash: string;

  @Field(() => AuditChainBreak, { nullable: true, description: "The first broken link; null when intact." })
  firstBroken: AuditChainBreak | null;
}
