import { Field, ObjectType } from "type-graphql";
import { ReconciliationAction, ReconciliationFindingKind } from "../../generated/prisma/enums.js";
import { Backend } from "./backend.type.js";
import { ConnectionTypes } from "./connection.type.js";
import { UserError } from "./user-error.type.js";
import "../enums.js";

@ObjectType({ description: "Something the reconciler found in AWS for a backend, and what it did about it." })
export class ReconciliationFinding {
  @Field({ description: "When it was found (or, for REPAIRED, when it was seen repaired)." })
  at: Date;

  @Field(() => ReconciliationFindingKind, { description: "What was found." })
  kind: ReconciliationFindingKind;

  @Field(() => ReconciliationAction, { description: "What the reconciler did." })
  action: ReconciliationAction;

  @Field({ description: 'The kind of AWS resource, e.g. "ec2:instance", "iam:role", "ec2:security-group-rule".' })
  resourceType: string;

  @Field({ description: "Its id in AWS (instance id, ARN, group id, rule...)." })
  resourceId: string;

  @Field({ description: "What differs, and why the action was taken." })
  message: string;
}

export const { Edge: ReconciliationFindingEdge, Connection: ReconciliationFindingConnection } = ConnectionTypes(ReconciliationFinding, "ReconciliationFinding");

@ObjectType({ description: "Result of reconcileBackend." })
export class ReconcileBackendPayload {
  @Field(() => Backend, { nullable: true, description: "The backend after the pass: status, lastReconciledAt, reconciliationFindings." })
  backend?: Backend;

  @Field(() => [UserError], { description: "Problems; BACKEND_BUSY while another pass over the backend runs too long." })
  userErrors: UserError[];
}
