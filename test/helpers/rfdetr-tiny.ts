/** The RF-DETR reference fixture: a copy of shared/fixtures/rfdetr-tiny (its README says how it was made). */
import { fileURLToPath } from 'node:url';

export const RFDETR_TINY = fileURLToPath(new URL('../../../test/fixtures/rfdetr-tiny/', import.meta.url));
