/* libforget — machine unlearning for neural-network classifiers. The umbrella header. */
#ifndef LIBFORGET_H
#define LIBFORGET_H

#include "libforget/common.h"
#include "libforget/version.h"
#include "libforget/context.h"
#include "libforget/dataset.h"
#include "libforget/model.h"
#include "libforget/unlearn.h"
#include "libforget/eval.h"

#endif
