export { SncError } from './errors.js';
export { loadSupernet, loadSupernetDir, writeSupernetDir, type Supernet } from './detr/supernet.js';
export { supernetFromRfdetr, RFDETR_VARIANTS, type RfdetrCheckpoint, type RfdetrVariant, type RfdetrImport } from './detr/rfdetr/import.js';
export { parseConfig, validateConfig, enumerateConfigs, configKey, type SubnetConfig, type SupernetSpec, type KnobGrid } from './detr/spec.js';
export { buildSubnet, buildBlock, planSubnet, type Block, type BuildOptions } from './detr/model.js';
export { subnetCost } from './detr/cost.js';
export { exportSubnet, exportSubnetToFile } from './detr/export-subnet.js';
export { encodeModel } from './onnx/writer.js';
export { decodeModel } from './onnx/reader.js';
export { readSafetensors, writeSafetensors } from './onnx/safetensors.js';
export { readPth, parsePth, type PthCheckpoint } from './onnx/pth.js';
export { readRfdetrCheckpoint, type RfdetrCheckpointFile } from './detr/rfdetr/checkpoint.js';
export { loadDevice, listDevices, type Device } from './latency/device.js';
export { profile } from './latency/profiler.js';
export { readLut, type Lut } from './latency/lut.js';
export { LatencyPredictor } from './latency/predictor.js';
export { validateLut } from './latency/validate.js';
export { checkSpeed, pickReferences, type SpeedCheck, type SpeedCheckOptions, type SpeedReference } from './latency/speed-check.js';
export { buildOpLut, readOpLut, predictModel, OpPredictor, type OpLut, type ModelPrediction } from './latency/op-lut.js';
export { opZoo, type ZooModel } from './latency/op-zoo.js';
export { CocoEvaluator, METRIC_NAMES, type CocoMetrics, type Detection, type GroundTruth } from './eval/coco-eval.js';
export { postprocess, mapClasses } from './detr/postprocess.js';
export { createSession, evaluateSession, evaluateDetections, openImages, type EvalReport } from './eval/evaluate.js';
export { readCocoDataset, type CocoDataset } from './data/coco.js';
export { readCocoResults, ResultsWriter } from './data/results.js';
export { Problems, type Problem } from './data/problems.js';
export { synthesize } from './data/synth.js';
export {
  search,
  screeningSubset,
  SEARCH_METRICS,
  type SearchOptions,
  type SearchResult,
  type SearchProgress,
  type SearchCounts,
  type SearchLut,
  type SearchMetric,
  type SubnetResult,
  type DeviceResult,
  type FrontEntry,
  type MissingEvaluation,
} from './search/search.js';
export { writeSearchReport, type SearchFiles } from './search/report.js';
export { paretoFront, bestUnderBudget, type ParetoPoint } from './search/pareto.js';
export { fitAccuracyPredictor, type AccuracyPredictor } from './search/accuracy-predictor.js';
export { EvalCache, datasetHash, type EvalKey } from './eval/cache.js';
export { EvalPool, GroupEvaluationFailed, type GroupEvaluator } from './eval/pool.js';
// the job-queue implementations load BullMQ: import them from dist/src/eval/queue.js and dist/src/latency/profile-jobs.js (docs/scale-out.md)
export { evaluateGroup, evaluateExits, type GroupTask, type GroupEvaluation } from './eval/multi-exit.js';
export { build, DEVICE_STEPS, type BuildOptions as SncBuildOptions, type BuildResult, type DeviceStep, type BuildProgress } from './export/build.js';
export { loadConfig, parseConfig as parseBuildConfig, resolveConfig, configJsonSchema, ConfigSchema, type BuildConfig, type ConfigFile } from './export/config.js';
export { writeBuildReports, readDeviceReport, type DeviceReport } from './export/report.js';
export { check, type CheckResult, type DeviceCheck, type CheckOptions } from './gate/check.js';
export { junitXml, markdownSummary, benchmarkJson } from './gate/outputs.js';
export { medianInterval, verdictOf } from './gate/decide.js';
export { RelativeTimer } from './latency/relative.js';
export { renderBuildHtml, type BuildPage } from './report/build-page.js';
export { quantizeModel, WEIGHT_MODES, type QuantizeOptions, type QuantizeResult, type LayerReport, type WeightMode } from './quant/quantize.js';
export { calibrationSet, collectStatistics, type CalibrationSet } from './quant/calibrate.js';
export { rewriteQdq, formatFor, QDQ_FORMATS, type QdqFormat } from './quant/qdq.js';
export { selectTargets, KEEP_FLOAT, type Selection } from './quant/select.js';
export { activationRange, RANGE_METHODS, type RangeMethod, type Range } from './quant/range/index.js';
export { StreamingHistogram } from './quant/histogram.js';
export { nupesQuantize, decodeNupes, type NupesWeight } from './quant/nupes.js';
export { replaceWithNupes } from './quant/nupes-graph.js';
export { evaluateModelBytes } from './quant/evaluate-model.js';
export { readModelInfo, type ModelInfo } from './quant/model-info.js';
export { markdownReport, type QuantReport } from './quant/report.js';
