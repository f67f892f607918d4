export { LineSplitter } from './line-splitter.js';
export { LogSink, type LogSinkOptions, type StreamName, type TextWriter } from './log-sink.js';
export { Masker } from './masker.js';
export { CommandGuard } from './stop-commands.js';
