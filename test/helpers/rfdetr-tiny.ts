/**
 * The RF-DETR reference fixture (../shared/fixtures/rfdetr-tiny, see its README): committed
 * copies under test/fixtures/ win, then the shared folder beside the checkout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export function rfdetrTinyDir(): string {
  const candidates = [join(root, 'test/fixtures/rfdetr-tiny'), join(root, '../shared/fixtures/rfdetr-tiny'), join(root, '../../shared/fixtures/rfdetr-tiny'), '/work/shared/fixtures/rfdetr-tiny'];
  const dir = candidates.find((d) => existsSync(join(d, 'rf-detr-tiny-random.pth')));
  if (!dir) throw new Error(`the rfdetr-tiny fixture is in none of ${candidates.join(', ')}`);
  return dir;
}
