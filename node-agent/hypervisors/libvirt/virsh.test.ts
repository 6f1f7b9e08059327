/** The parsers and XML builders of virsh.ts, on output captured from virsh 9.0 (no libvirtd needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointXml, libvirtMessageOf, parseBackupXml, parseDomblklist, pullBackupXml } from './virsh.js';

describe('virsh output', () => {
  it('lists disk devices from domblklist --details, with or without the header', () => {
    const quiet = [
      ' file   disk     vda      /var/lib/libvirt/images/web 1.qcow2',
      ' file   cdrom    sda      -',
      ' block  disk     vdb      /dev/vg0/web-data',
      ' file   disk     vdc      -',
      '',
    ].join('\n');
    const expected = [
      { target: 'vda', type: 'file', source: '/var/lib/libvirt/images/web 1.qcow2' },
      { target: 'vdb', type: 'block', source: '/dev/vg0/web-data' },
      { target: 'vdc', type: 'file', source: null },
    ];
    assert.deepEqual(parseDomblklist(quiet), expected);
    const withHeader = ` Type   Device   Target   Source\n--------------------------------------------------------\n${quiet}`;
    assert.deepEqual(parseDomblklist(withHeader), expected);
  });

  it('reads the exports and bitmaps of a pull backup from backup-dumpxml', () => {
    const xml = `<domainbackup mode='pull'>
  <incremental>bulwark-01J&amp;X</incremental>
  <server transport='tcp' name='127.0.0.1' port='10810'/>
  <disks>
    <disk name='vda' backup='yes' type='file' backupmode='incremental' incremental='cp0' exportname='vda' exportbitmap='backup-vda' index='2'>
      <driver type='qcow2'/>
      <scratch file='/srv/scratch/vm.bulwark-x.vda.scratch.qcow2'/>
    </disk>
    <disk name='sda' backup='no'/>
  </disks>
</domainbackup>`;
    assert.deepEqual(parseBackupXml(xml), {
      mode: 'pull',
      incremental: 'bulwark-01J&X',
      host: '127.0.0.1',
      port: 10810,
      disks: [
        { name: 'vda', backup: true, exportName: 'vda', exportBitmap: 'backup-vda', scratchFile: '/srv/scratch/vm.bulwark-x.vda.scratch.qcow2' },
        { name: 'sda', backup: false, exportName: null, exportBitmap: null, scratchFile: null },
      ],
    });
  });

  it("keeps libvirt's message without the error: prefixes", () => {
    assert.equal(
      libvirtMessageOf("error: Failed to delete checkpoint cp1\nerror: internal error: bitmap 'cp1' not found in backing chain of 'vda'\n"),
      "Failed to delete checkpoint cp1: internal error: bitmap 'cp1' not found in backing chain of 'vda'",
    );
  });

  it('writes escaped backup and checkpoint XML that reads back', () => {
    const xml = pullBackupXml({ incremental: "cp'0", host: '127.0.0.1', port: 10811, disks: [{ target: 'vda', scratchFile: '/s/a&b.qcow2' }] });
    assert.match(xml, /<incremental>cp&apos;0<\/incremental>/);
    const back = parseBackupXml(xml);
    assert.equal(back.incremental, "cp'0");
    assert.equal(back.port, 10811);
    assert.equal(back.disks[0]?.scratchFile, '/s/a&b.qcow2');
    assert.doesNotMatch(pullBackupXml({ incremental: null, host: 'h', port: 1, disks: [] }), /incremental/);
    assert.match(checkpointXml('bulwark-X', 'VM <a>'), /<name>bulwark-X<\/name>[\s\S]*VM &lt;a&gt;/);
  });
});
