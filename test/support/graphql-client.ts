// A minimal GraphQL-over-HTTP client for tests: real HTTP, real JSON.

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
  raw: string;
}

export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  async request<T = any>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const raw = await response.text();
    let body: { data?: T; errors?: GraphQLResponse["errors"] } = {};
    try {
      body = JSON.parse(raw);
    } catch {
      // non-JSON body: the test sees it in `raw`
    }
    return { status: response.status, data: body.data, errors: body.errors, raw };
  }

  /** Runs the operation and fails the test on any GraphQL error. */
  async ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length || result.status !== 200) {
      throw new Error(`GraphQL request failed (${result.status}): ${result.raw}`);
    }
    return result.data as T;
  }

  /** The `extensions.code` of the first error, for error-path assertions. */
  async errorCode(query: string, variables?: Record<string, unknown>): Promise<string | undefined> {
    const result = await this.request(query, variables);
    return result.errors?.[0]?.extensions?.code;
  }
}
