import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import { KafkaUnavailableError, NotFoundError } from '../errors/app-error';
import { mapError } from './error-body';

describe('mapError', () => {
  it('keeps domain errors with their status and code', () => {
    const m = mapError(new NotFoundError('prompt_not_found', 'no such prompt'), 'c1');
    expect(m).toMatchObject({ status: 404, body: { error: { code: 'prompt_not_found' } }, internal: false });
  });

  it('turns a broker outage into 503 with Retry-After', () => {
    expect(mapError(new KafkaUnavailableError(), 'c1')).toMatchObject({ status: 503, retryAfterSeconds: 5 });
  });

  it('turns "cannot reach MongoDB" driver errors into 503 database_unavailable', () => {
    for (const name of ['MongoServerSelectionError', 'MongoNetworkError', 'MongoNotConnectedError']) {
      const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name });
      expect(mapError(err, 'c1')).toMatchObject({
        status: 503,
        body: { error: { code: 'database_unavailable' } },
        retryAfterSeconds: 5,
        internal: false,
      });
    }
  });

  it('turns a passed operation deadline into 503 database_unavailable', () => {
    const timeout = Object.assign(new Error('Timed out during socket read (1500ms)'), {
      name: 'MongoOperationTimeoutError',
    });
    const maxTime = Object.assign(new Error('operation exceeded time limit'), {
      name: 'MongoServerError',
      code: 50,
    });
    const bulkTimeout = Object.assign(new Error('Timed out during connection checkout'), {
      name: 'MongoBulkWriteError',
      writeErrors: [],
    });
    for (const err of [timeout, maxTime, bulkTimeout]) {
      expect(mapError(err, 'c1')).toMatchObject({
        status: 503,
        body: { error: { code: 'database_unavailable' } },
        retryAfterSeconds: 5,
        internal: false,
      });
    }
    // Other server errors, and bulk writes that failed per document, stay internal.
    const other = Object.assign(new Error('bad'), { name: 'MongoServerError', code: 2 });
    expect(mapError(other, 'c1')).toMatchObject({ status: 500, internal: true });
    const perDocument = Object.assign(new Error('Timed out'), {
      name: 'MongoBulkWriteError',
      writeErrors: [{ code: 121 }],
    });
    expect(mapError(perDocument, 'c1')).toMatchObject({ status: 500, internal: true });
  });

  it('maps body-parser errors to stable codes', () => {
    expect(mapError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }, 'c1').body.error.code).toBe(
      'invalid_json',
    );
    expect(mapError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 'c1').status).toBe(413);
  });

  it('reports zod errors as validation_failed with paths', () => {
    const err = z.object({ rating: z.number() }).safeParse({ rating: 'x' }).error!;
    expect(mapError(err, 'c1').body.error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'rating' }] },
    });
  });

  it('hides internals of unexpected errors and returns the correlation id', () => {
    const m = mapError(new Error('secret stack detail'), 'corr-42');
    expect(m).toMatchObject({
      status: 500,
      internal: true,
      body: { error: { code: 'internal_error', details: { correlationId: 'corr-42' } } },
    });
    expect(JSON.stringify(m.body)).not.toContain('secret');
    expect(mapError(new HttpException('boom', 502), 'c2').body.error.code).toBe('internal_error');
  });
});
