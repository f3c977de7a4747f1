import { describe, expect, it } from 'vitest';
import { runnerEnvironment } from './runnerEnvironment.ts';

describe('runnerEnvironment', () => {
  it('keeps every secret of the trainer away from framework code, and passes the rest on', () => {
    const env = runnerEnvironment(
      {
        PATH: '/usr/bin',
        HOME: '/tmp',
        TRAINER_TOKEN: 'trainer-secret',
        CALLBACK_TOKEN: 'vtpcb_job_secret',
        TRAINING_SPEC_JSON: '{"callback":{"token":"vtpcb_job_secret"}}',
        AWS_ACCESS_KEY_ID: 'key',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'session',
      },
      '/app/python',
      { YOLO_OFFLINE: 'true' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/tmp',
      YOLO_OFFLINE: 'true',
      PYTHONPATH: '/app/python',
      PYTHONUNBUFFERED: '1',
    });
  });
});
