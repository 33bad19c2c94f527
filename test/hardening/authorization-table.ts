// The authorization matrix: for every root field of the API (Query, Mutation, Subscription), what
// each kind of caller gets. authorization-matrix.test.ts enumerates the fields from the schema
// (a field without a row here fails, and so does a row for a field that no longer exists) and
// runs every cell through HTTP (subscriptions through graphql-ws).
//
// The fixture world: project P (a READY backend provisioned against moto, an instance, a project
// secret, a provisioning run, an artifact and a log line) and project Q of another user (the same,
// on its own bucket). Each cell acts on P's objects; the callers are:
//
//   anonymous     no token
//   otherProject  ADMIN of Q, not a member of P
//   viewer        VIEWER of P
//   user          USER of P
//   admin         ADMIN of P (a global USER)
//   globalAdmin   the bootstrap global ADMIN, not a member of P
//
// Outcomes:
//   UNAUTHENTICATED  a GraphQL error with extensions.code UNAUTHENTICATED, no data
//   FORBIDDEN        a GraphQL error with extensions.code FORBIDDEN
//   NULL             as if P's object did not exist: null, an empty list or connection, a list
//                    without P; for a subscription: it completes without an event or an error
//   NOT_FOUND        userErrors with code NOT_FOUND, and nothing changed
//   OK               the data, with no error and empty userErrors; for a subscription: the
//                    object's current state as the first event
//   OK_SELF          OK, and it acts on or shows the caller only (me, their tokens)
//
// Every denied mutation cell (not OK) is also checked to have changed nothing in the database.
// The test file also runs the otherProject column mirrored (P's members on Q's objects), cross
// pairs (a project id with the other project's backend id), and subscriptions after access ends.

export const CALLERS = ["anonymous", "otherProject", "viewer", "user", "admin", "globalAdmin"] as const;
export type Caller = (typeof CALLERS)[number];

export const OUTCOMES = ["UNAUTHENTICATED", "FORBIDDEN", "NULL", "NOT_FOUND", "OK", "OK_SELF"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type RootType = "Query" | "Mutation" | "Subscription";
export type Row = Record<Caller, Outcome>;

const UNAUTHENTICATED = "UNAUTHENTICATED";
const FORBIDDEN = "FORBIDDEN";
const NULL = "NULL";
const NOT_FOUND = "NOT_FOUND";
const OK = "OK";
const OK_SELF = "OK_SELF";

/** One row, in CALLERS order. */
function row(anonymous: Outcome, otherProject: Outcome, viewer: Outcome, user: Outcome, admin: Outcome, globalAdmin: Outcome): Row {
  return { anonymous, otherProject, viewer, user, admin, globalAdmin };
}

/** A field only a global admin may use (createUser, resealCredentials): FORBIDDEN to every other signed-in caller. */
const ADMIN_ONLY = row(UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK);

export const AUTHORIZATION_TABLE: Record<RootType, Record<string, Row>> = {
  Query: {
    //                          anonymous        otherProject  VIEWER     USER       ADMIN      globalAdmin
    artifacts:              row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    // P's audit log: its ADMINs and global admins; everyone else FORBIDDEN (not NULL: no silent empty log).
    auditEvents:            row(UNAUTHENTICATED, FORBIDDEN,    FORBIDDEN, FORBIDDEN, OK,        OK),
    awsIamPolicy:           row(UNAUTHENTICATED, OK,           OK,        OK,        OK,        OK),
    awsRegions:             row(UNAUTHENTICATED, OK,           OK,        OK,        OK,        OK),
    backend:                row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    instance:               row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    instanceOffers:         row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    logEvents:              row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    me:                     row(UNAUTHENTICATED, OK_SELF,      OK_SELF,   OK_SELF,   OK_SELF,   OK_SELF),
    myApiTokens:            row(UNAUTHENTICATED, OK_SELF,      OK_SELF,   OK_SELF,   OK_SELF,   OK_SELF),
    project:                row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    projectSecrets:         row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    // NULL: P is not in the caller's list.
    projects:               row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    provisioningRun:        row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    verifyAuditChain:       ADMIN_ONLY,
  },
  Mutation: {
    // A new token for the caller: it authenticates as the caller.
    createApiToken:         row(UNAUTHENTICATED, OK_SELF,      OK_SELF,   OK_SELF,   OK_SELF,   OK_SELF),
    createAwsBackend:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    createProject:          row(UNAUTHENTICATED, OK,           OK,        OK,        OK,        OK),
    createUser:             ADMIN_ONLY,
    // On a disposable CONFIGURED backend of P, one per cell.
    deleteBackend:          row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // On a disposable project with P's members and roles, one per cell.
    deleteProject:          row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // On a disposable secret of P's backend, one per cell.
    deleteProjectSecret:    row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    discoverAwsBackend:     row(UNAUTHENTICATED, OK,           OK,        OK,        OK,        OK),
    launchInstance:         row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, OK,        OK,        OK),
    // On P's READY backend; run after every other cell, each allowed run waited for.
    provisionBackend:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // A reconciliation pass over P's READY backend (it finds nothing to change).
    reconcileBackend:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // Removes a disposable VIEWER of P (someone else than the caller), one per cell.
    removeProjectMember:    row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    resealCredentials:      ADMIN_ONLY,
    // Revokes a fresh token of P's VIEWER, one per cell: only its owner and a global admin may.
    revokeApiToken:         row(UNAUTHENTICATED, NOT_FOUND,    OK_SELF,   NOT_FOUND, NOT_FOUND, OK),
    // Sets a defaultMaxDurationMinutes far beyond the test's run (no other limit: later launches must pass).
    setProjectLimits:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    setProjectMember:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    setProjectSecret:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // On a disposable CONFIGURED backend of P, one per cell; each allowed run waited for.
    teardownBackend:        row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    // On a disposable instance of P's backend, one per cell.
    terminateInstance:      row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, OK,        OK,        OK),
    updateAwsBackend:       row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
    updateProject:          row(UNAUTHENTICATED, NOT_FOUND,    FORBIDDEN, FORBIDDEN, OK,        OK),
  },
  Subscription: {
    backendUpdated:         row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    instanceUpdated:        row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
    provisioningRunUpdated: row(UNAUTHENTICATED, NULL,         OK,        OK,        OK,        OK),
  },
};

/**
 * Cells that fail today because of a bug in src/, as "<Type>.<field>/<caller>" with why. The test
 * runs them as `it.fails`: they must keep failing until the bug is fixed, then be removed here.
 */
export const KNOWN_FAILURES: Record<string, string> = {
};
