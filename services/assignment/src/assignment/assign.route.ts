/**
 * POST /v1/assign, the hot path, as a direct route (served by fastify, not through Nest's router;
 * see libs/platform DirectRoutes): same validation, error body, metrics and OpenAPI entry as the
 * controller routes, without Nest's per-request wrapping. The batch endpoint stays a controller
 * route. The body is checked by the request schema only.
 */
import { contextOf, DirectRoutes, openApiSchema, parseOrThrow, principalOf } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { AssignUserUseCase } from './assign-user.usecase';
import { assignRequestSchema } from './dto/assign.request';
import { assignResponseJsonSchema } from './dto/assign.response';

@Injectable()
export class AssignRoute {
  constructor(routes: DirectRoutes, assignUser: AssignUserUseCase) {
    routes.add({
      method: 'POST',
      url: '/v1/assign',
      status: 200,
      auth: { scope: 'assign', class: 'assign' },
      handle: (body, request) =>
        assignUser.assign(
          principalOf(request).project,
          parseOrThrow(assignRequestSchema, body),
          contextOf(request),
        ),
      openApi: {
        tags: ['assignment'],
        operationId: 'assign',
        summary: 'Assign a user to an arm',
        description:
          "Among the experiments of the key's project. Deterministic. Users outside the experiment get " +
          'the control prompt with inExperiment false. ' +
          'Answers after the exposure event (inExperiment true) is acknowledged by Kafka.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: openApiSchema(assignRequestSchema),
            },
          },
        },
        responses: {
          '200': {
            description: 'The arm and prompt for this user (the control arm when inExperiment is false)',
            content: { 'application/json': { schema: assignResponseJsonSchema } },
          },
          '400': { description: 'validation_failed | invalid_json' },
          '404': { description: "experiment_not_found (also for another project's experiment)" },
          '413': { description: 'payload_too_large' },
          '415': { description: 'unsupported_media_type (send application/json)' },
          '503': { description: 'broker_unavailable (Retry-After): the exposure could not be recorded' },
        },
      },
    });
  }
}
