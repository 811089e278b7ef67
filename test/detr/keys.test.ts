import test from 'ava';
import { keyOf } from '../../src/detr/keys.js';
import { PRESETS } from '../../src/detr/presets.js';

test('the patch embedding key names the conv stem, and its residual blocks when it has any', (t) => {
  const a = structuredClone(PRESETS['shapes-tiny'].spec.architecture);
  delete a.backbone.stem;
  t.is(keyOf.patchEmbed(a, 224, 16, 1), 'patch_embed:C128,res=224,patch=16,windows=1');
  a.backbone.stem = { type: 'conv', channels: [16, 32], eps: 1e-6 };
  t.is(keyOf.patchEmbed(a, 224, 16, 1), 'patch_embed:C128,res=224,patch=16,windows=1,stem=16-32');
  a.backbone.stem.blocks = [0, 0]; // no blocks: the same graph, so the same key
  t.is(keyOf.patchEmbed(a, 224, 16, 1), 'patch_embed:C128,res=224,patch=16,windows=1,stem=16-32');
  a.backbone.stem.blocks = [1, 2];
  t.is(keyOf.patchEmbed(a, 224, 16, 2), 'patch_embed:C128,res=224,patch=16,windows=2,stem=16-32+1-2');
});
