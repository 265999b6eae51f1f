import type {
  CallToolResult,
  GetPromptResult,
  InputRequiredResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplateType,
  ServerContext,
  Tool,
} from '@modelcontextprotocol/server';

/**
 * A set of tools, resources and prompts an MCP server exposes. Billfold's catalogue is one
 * surface; the conformance fixtures (tests only) are another. Each method answers for its own
 * names and returns null for anything else, so surfaces compose without knowing each other.
 */
export interface McpSurface {
  tools?: readonly Tool[];
  /** May ask the client for input first (elicitation, sampling) with an `input_required` result. */
  callTool?(
    name: string,
    args: Record<string, unknown>,
    ctx: ServerContext,
  ): Promise<CallToolResult | InputRequiredResult> | null;
  resources?: readonly Resource[];
  /** Concrete resources that depend on the caller (this month's summary): listed with `resources`. */
  listResources?(ctx: ServerContext): Promise<Resource[]>;
  resourceTemplates?: readonly ResourceTemplateType[];
  readResource?(uri: string, ctx: ServerContext): Promise<ReadResourceResult> | null;
  prompts?: readonly Prompt[];
  getPrompt?(name: string, args: Record<string, string>, ctx: ServerContext): Promise<GetPromptResult> | null;
  /** Argument completion for prompts and resource templates. */
  complete?(
    ref: { type: string; name?: string; uri?: string },
    argument: { name: string; value: string },
    ctx: ServerContext,
  ): Promise<{ values: string[] }> | null;
}
