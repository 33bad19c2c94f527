// Relay connection types, built once per node type by a generic factory.
import { Field, ObjectType, type ClassType } from "type-graphql";

@ObjectType({ description: "Where a page sits in a connection (Relay)." })
export class PageInfo {
  @Field({ description: "True when more items follow this page." })
  hasNextPage: boolean;

  @Field({ description: "True when this page was requested with `after`." })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the first item of the page." })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: "Cursor of the last item; pass it as `after` for the next page." })
  endCursor: string | null;
}

export interface EdgeShape<T> {
  cursor: string;
  node: T;
}

export function ConnectionTypes<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { description: `One ${name} in a connection, with its cursor.` })
  class Edge {
    @Field({ description: "Opaque cursor of this item." })
    cursor: string;

    @Field(() => nodeType, { description: `The ${name}.` })
    node: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay connection).` })
  class Connection {
    @Field(() => [Edge], { description: "The items of this page." })
    edges: Edge[];

    @Field(() => PageInfo, { description: "Pagination state." })
    pageInfo: PageInfo;
  }

  return { Edge, Connection };
}
