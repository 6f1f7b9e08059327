/** The test fixture that stands for the link between sites: forwards, cuts, restores. */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TcpProxy } from '../helpers/tcp-proxy.js';

function exchange(address: string, text: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.end(text));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('TcpProxy (the link between sites in fault tests)', () => {
  const echo = createServer((s) => s.pipe(s));
  let proxy: TcpProxy;

  before(async () => {
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    proxy = await TcpProxy.start(`127.0.0.1:${(echo.address() as AddressInfo).port}`);
  });
  after(async () => {
    await proxy.close();
    echo.close();
  });

  it('forwards, refuses while cut, and forwards again once restored', async () => {
    assert.equal(await exchange(proxy.address, 'hello'), 'hello');
    proxy.cut();
    assert.equal(await exchange(proxy.address, 'lost'), '', 'a cut link answers nothing');
    proxy.restore();
    assert.equal(await exchange(proxy.address, 'again'), 'again');
    assert.equal(proxy.connections, 2);
    assert.equal(proxy.bytesToTarget, 'hello'.length + 'again'.length, 'bytes sent through the link, counted once each');
    assert.equal(proxy.bytesFromTarget, 'hello'.length + 'again'.length, 'echoed bytes counted on the way back');
    proxy.resetCounts();
    assert.equal(proxy.bytesTotal, 0);
  });

  it('breaks connections that are open when the link is cut', async () => {
    const [host, port] = [proxy.address.split(':')[0] ?? '', Number(proxy.address.split(':')[1])];
    const socket = connect(port, host);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('x');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    proxy.cut();
    await closed;
    proxy.restore();
  });
});
