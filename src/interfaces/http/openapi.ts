import { ERROR_CODES, HTTP_STATUS } from '../../domain/errors.js';
import type { Catalogue } from '../../operations/catalogue.js';
import { ErrorShape } from '../../operations/schemas/common.js';
import { VERSION } from '../../version.js';
import { jsonSchemaOf } from '../mcp/catalogue-surface.js';

/**
 * OpenAPI 3.1 for the HTTP API, generated from the catalogue: one POST path per operation with
 * the operation's own input and output JSON Schemas (3.1 uses JSON Schema 2020-12 as is).
 */
export function openApiDocument(catalogue: Catalogue, serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const statuses = [...new Set(ERROR_CODES.map((c) => HTTP_STATUS[c]))].sort();
  for (const op of catalogue.operations) {
    const errorResponses = Object.fromEntries(
      statuses.map((status) => [
        String(status),
        {
          description: ERROR_CODES.filter((c) => HTTP_STATUS[c] === status).join(' or '),
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      ]),
    );
    paths[`/api/v1/${op.name}`] = {
      post: {
        operationId: op.name,
        summary: op.title,
        description: op.description,
        tags: [op.group],
        security: [{ bearer: [] }],
        'x-required-scope': op.scope,
        'x-mcp-annotations': op.annotations,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: strip(jsonSchemaOf(op.input, 'input')) } },
        },
        responses: {
          '200': {
            description: 'Success',
            headers: { 'X-Request-Id': { schema: { type: 'string' } } },
            content: { 'application/json': { schema: strip(jsonSchemaOf(op.output, 'output')) } },
          },
          ...errorResponses,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Billfold HTTP API',
      version: VERSION,
      description:
        'Every Billfold operation as POST /api/v1/<operation> with a JSON body. The same operations are MCP tools ' +
        'at /mcp. Amounts are exact: inputs in major units as decimal strings, outputs in integer minor units plus a ' +
        'decimal string. Errors are {"error": {code, message, details, hint}}.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(catalogue.operations.map((o) => o.group))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A Billfold API key (bfk_…)' },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: { error: strip(jsonSchemaOf(ErrorShape, 'output')) },
          required: ['error'],
        },
      },
    },
  };
}

function strip(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}
