import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { WrongPassphraseError } from '../../shared/crypto/key-file.js';
import { AppError, ConfigError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { ControllerNotConfiguredError, ControllerUnreachableError, ExitCode, JobFailedError, errorHint, errorText, exitCodeOf } from './cli-errors.js';

describe('CLI errors: what to do next, and the exit code', () => {
  it('UNAVAILABLE: how to start or point at the controller; exit 3', () => {
    const err = new ControllerUnreachableError('127.0.0.1:9', '--controller');
    const text = errorText(err);
    assert.match(text, /^bulwark: cannot reach the controller at 127\.0\.0\.1:9 \(address from --controller\): is `bulwark up` running\?\n/);
    assert.match(text, /\n {2}hint: start one with `bulwark up`, or point the CLI at the running one: --controller <host:port>, BULWARK_CONTROLLER, or "controller" in client\.json/);
    assert.equal(exitCodeOf(err), ExitCode.unreachable);
    assert.equal(exitCodeOf(new ControllerNotConfiguredError('/x/.bulwark/client.json')), ExitCode.unreachable);
    assert.match(errorHint(new ControllerNotConfiguredError('/x')) ?? '', /bulwark up/);
  });

  it('NOT_FOUND: the command that lists what exists, by what was not found; exit 1', () => {
    const cases: [string, RegExp][] = [
      ['VM', /`bulwark vms`/],
      ['backup', /`bulwark backups`/],
      ['job', /`bulwark jobs`/],
      ['agent', /`bulwark workers`/],
      ['storage at site', /`bulwark workers`/],
      ['policy', /`bulwark policy list`/],
      ['gadget', /`bulwark vms`, `bulwark backups` and `bulwark jobs`/],
    ];
    for (const [what, hint] of cases) {
      const err = new NotFoundError(what, 'x');
      assert.match(errorHint(err) ?? '', hint, what);
      assert.equal(exitCodeOf(err), ExitCode.failed);
    }
  });

  it("FAILED_PRECONDITION: the server's message, then where to see the state; exit 1", () => {
    const err = new PreconditionError('no online storage at site b');
    assert.match(errorText(err), /^bulwark: no online storage at site b\n {2}hint: .*`bulwark status` and `bulwark workers`/);
    assert.equal(exitCodeOf(err), ExitCode.failed);
  });

  it('DEADLINE_EXCEEDED: what to look at; exit 1', () => {
    const err = new AppError('DEADLINE_EXCEEDED', 'controller: deadline exceeded');
    assert.match(errorHint(err) ?? '', /did not answer in time.*`bulwark status`/);
    assert.equal(exitCodeOf(err), ExitCode.failed);
  });

  it('UNAUTHENTICATED and PERMISSION_DENIED: a token with a role that may, not twice when the server said so; exit 4', () => {
    assert.match(errorHint(new AppError('UNAUTHENTICATED', 'no token')) ?? '', /BULWARK_TOKEN.*`bulwark token create <name> --role <role>`/);
    assert.match(errorHint(new AppError('PERMISSION_DENIED', 'role viewer')) ?? '', /a token with a role that may do this .*`bulwark token create/);
    assert.equal(errorHint(new AppError('PERMISSION_DENIED', 'needs operator: use a token with role operator (`bulwark token create x --role operator`)')), undefined);
    assert.equal(exitCodeOf(new AppError('PERMISSION_DENIED', 'x')), ExitCode.denied);
    assert.equal(exitCodeOf(new AppError('UNAUTHENTICATED', 'x')), ExitCode.denied);
  });

  it("a key's wrong passphrase is no API access: exit 1, and a hint about the passphrase", () => {
    const err = new WrongPassphraseError('0123');
    assert.equal(exitCodeOf(err), ExitCode.failed);
    assert.match(errorHint(err) ?? '', /--passphrase-file <file>, BULWARK_KEY_PASSPHRASE/);
  });

  it('INVALID_ARGUMENT: names the field or the config source; exit 2', () => {
    const field = new ValidationError('--until', 'must be in the future');
    assert.match(errorText(field), /^bulwark: invalid input: --until: must be in the future\n {2}hint: fix --until; /);
    assert.equal(exitCodeOf(field), ExitCode.usage);
    const config = new ConfigError('BULWARK_PROGRESS', '', 'must be one of auto, bar, plain, none');
    assert.match(errorHint(config) ?? '', /^fix BULWARK_PROGRESS and run the command again$/);
    assert.equal(exitCodeOf(config), ExitCode.usage);
    assert.equal(exitCodeOf(new AppError('INVALID_ARGUMENT', 'from the server')), ExitCode.usage);
  });

  it("commander's own errors print nothing more; help is exit 0; a failed job is exit 1", () => {
    assert.equal(errorText(new CommanderError(1, 'commander.unknownOption', 'x')), '');
    assert.equal(exitCodeOf(new CommanderError(1, 'commander.unknownOption', 'x')), ExitCode.usage);
    assert.equal(exitCodeOf(new CommanderError(0, 'commander.helpDisplayed', '')), ExitCode.ok);
    assert.equal(exitCodeOf(new JobFailedError('J1', 'disk unreadable')), ExitCode.failed);
    assert.equal(errorText(new Error('boom')), 'bulwark: boom\n');
  });
});
