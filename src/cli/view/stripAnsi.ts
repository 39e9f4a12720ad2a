// The core's one expression for terminal escape sequences, under the name the CLI's views import.
export { stripAnsi } from '../../core/util/stripAnsi';
