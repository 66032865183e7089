/**
 * The configuration files as ZooKeeper 3.5+ keeps them: when a reconfig commits, its membership
 * goes to `<zoo.cfg>.dynamic.<version hex>` (the server/group/weight lines, sorted, no version
 * line: the version is in the name) and zoo.cfg is rewritten without its membership keys, ending
 * with `dynamicConfigFile=<absolute path>` (the first time, the original is kept as zoo.cfg.bak).
 * A restarted member reads its last committed config from there (config.ts). The files are
 * byte-for-byte ZooKeeper 3.8's (test/reconfig/mixed.test.ts compares them).
 */
import path from 'node:path';
import fs from 'node:fs';
import { writeFileAtomic } from '../../storage/fsutil.js';
import { parseProperties } from '../config.js';
import { configText, type EnsembleConfig } from './quorumConfig.js';

/** Keys the static file loses to the dynamic one (ZooKeeper's editStaticConfig). */
const MEMBERSHIP_KEY = /^(server\.|group|weight|dynamicConfigFile|peerType)/;
/** Dropped too when this member's line names its client address (the line then owns it). */
const CLIENT_KEY = /^clientPort(Address)?$/;

export function dynamicConfigPath(configPath: string, version: bigint): string {
  return `${path.resolve(configPath)}.dynamic.${version.toString(16)}`;
}

/** The dynamic file's text: the config's lines without `version=`, sorted as ZooKeeper sorts them (as strings). */
export function dynamicConfigText(c: EnsembleConfig): string {
  return configText(c)
    .split('\n')
    .filter((l) => !l.startsWith('version='))
    .sort()
    .join('\n');
}

export async function writeDynamicConfig(configPath: string, c: EnsembleConfig, myid: number): Promise<void> {
  const dynamicPath = dynamicConfigPath(configPath, c.version);
  await writeFileAtomic(dynamicPath, dynamicConfigText(c));
  const me = c.servers.find((s) => s.id === myid);
  const eraseClient = me?.clientPort !== undefined;
  const text = fs.readFileSync(configPath, 'utf8');
  const props = parseProperties(text);
  // The static file as the user wrote it, kept once (ZooKeeper's backupOldConfig).
  if (!props.has('dynamicConfigFile') && !fs.existsSync(`${configPath}.bak`)) await writeFileAtomic(`${configPath}.bak`, text);
  const kept: string[] = [];
  for (const [k, v] of props) {
    if (MEMBERSHIP_KEY.test(k) || (eraseClient && CLIENT_KEY.test(k))) continue;
    kept.push(`${k}=${v}`);
  }
  kept.push(`dynamicConfigFile=${dynamicPath}`);
  await writeFileAtomic(configPath, `${kept.join('\n')}\n`);
}
