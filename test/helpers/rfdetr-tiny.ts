/** The RF-DETR reference fixture: a copy of shared/fixtures/rfdetr-tiny (its README says how it was made). */
import { fileURLToPath } from 'node:url';

export const RFDETR_TINY = fileURLToPath(new URL('../../../test/fixtures/rfdetr-tiny/', import.meta.url));

/** The fixture's config as its README states it: the args RF-DETR's checkpoint carries. */
export const RFDETR_TINY_ARGS: Readonly<Record<string, unknown>> = {
  num_classes: 90,
  encoder: 'dinov2_windowed_small',
  vit_encoder_num_layers: 4,
  hidden_dim: 64,
  out_feature_indexes: [2, 4],
  projector_scale: ['P4'],
  layer_norm: true,
  rms_norm: false,
  resolution: 128,
  patch_size: 16,
  num_windows: 2,
  positional_encoding_size: 8,
  dec_layers: 2,
  sa_nheads: 2,
  ca_nheads: 4,
  dec_n_points: 2,
  dim_feedforward: 128,
  num_queries: 100,
  group_detr: 3,
  two_stage: true,
  lite_refpoint_refine: true,
  bbox_reparam: true,
  decoder_norm: 'LN',
  segmentation_head: false,
};
