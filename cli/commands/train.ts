/** `gift train`: trains the default MLP (or the small CNN) on MNIST, prints test accuracy, saves the model. */
import { Rng, setBackend, type DType } from '../../engine/index.js';
import { evaluate, loadIdxDirectory, mlp, saveModel, smallCnn, stratifiedSplit, train, type Dataset, type Split } from '../../nn/index.js';
import { EMBEDDED_MNIST, loadMnist, trainProgress } from '../../experiments/index.js';
import { UsageError, type Command } from '../command.js';
import { numberFlag, positiveInt, parseFlags } from '../flags.js';

const usage = `usage: gift train [options]

Trains a network on MNIST with seeded mini-batch SGD (a progress bar on a terminal, one line
per epoch otherwise), prints the test accuracy and saves the model as safetensors (loadable by
PyTorch: state_dict names 0.weight, 0.bias, ...; the architecture is in the file's metadata).
Default data: the 10,000 digits embedded in the 'mnist' package, split 8,000 train / 2,000 test
(stratified, seeded; see docs/nn.md).

options:
  --model mlp|cnn          mlp: 784-128-10 tanh (default); cnn: conv 8c5-pool-16c5-pool-linear
  --epochs N               passes over the training data (default 6)
  --batch-size N           samples per step (default 64)
  --lr X                   learning rate (default 0.1 for sgd, 0.001 for adam)
  --optimizer sgd|adam     (default sgd, momentum 0.9)
  --momentum X             SGD momentum (default 0.9)
  --schedule cosine|constant  learning-rate schedule over the epochs (default cosine)
  --weight-decay X         wd of the objective mean loss + (wd/2)‖θ‖² (default 0)
  --validation X           hold out this fraction of the training set, report it each epoch (default 0)
  --seed N                 seed of initialisation and shuffling (default 0)
  --dtype float32|float64  (default float32)
  --backend NAME           engine backend: cpu (default), gpu (gpu.js, float32), gpu:<mode>
  --data DIR               read MNIST/Fashion-MNIST IDX files (raw or .gz) from DIR instead
  --output PATH            where to save the model (default model.safetensors)
  --no-save                do not save the model`;



export const trainCommand: Command = {
  name: 'train',
  summary: 'train the default MLP (or a CNN) on MNIST, print test accuracy, save the model',
  usage,
  async run(args) {
    const parsed = parseFlags({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
        optimizer: { type: 'string' }, momentum: { type: 'string' }, schedule: { type: 'string' },
        'weight-decay': { type: 'string' }, validation: { type: 'string' }, seed: { type: 'string' },
        dtype: { type: 'string' }, backend: { type: 'string' }, data: { type: 'string' }, output: { type: 'string' },
        'no-save': { type: 'boolean' },
      },
    });
    const o = parsed.values;
    const model = o.model ?? 'mlp';
    if (model !== 'mlp' && model !== 'cnn') throw new UsageError(`--model must be mlp or cnn, got '${model}'`);
    const optimizer = o.optimizer ?? 'sgd';
    if (optimizer !== 'sgd' && optimizer !== 'adam') throw new UsageError(`--optimizer must be sgd or adam, got '${optimizer}'`);
    const schedule = o.schedule ?? 'cosine';
    if (schedule !== 'cosine' && schedule !== 'constant') throw new UsageError(`--schedule must be cosine or constant, got '${schedule}'`);
    const dtype = (o.dtype ?? 'float32') as DType;
    if (dtype !== 'float32' && dtype !== 'float64') throw new UsageError(`--dtype must be float32 or float64, got '${o.dtype}'`);
    const epochs = numberFlag('epochs', o.epochs, 6, positiveInt, 'a positive integer');
    const batchSize = numberFlag('batch-size', o['batch-size'], 64, positiveInt, 'a positive integer');
    const lr = numberFlag('lr', o.lr, optimizer === 'sgd' ? 0.1 : 1e-3, (v) => v > 0, 'a positive number');
    const momentum = numberFlag('momentum', o.momentum, 0.9, (v) => v >= 0 && v < 1, 'in [0, 1)');
    const weightDecay = numberFlag('weight-decay', o['weight-decay'], 0, (v) => v >= 0, 'a number ≥ 0');
    const validationFraction = numberFlag('validation', o.validation, 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    const seed = numberFlag('seed', o.seed, 0, Number.isInteger, 'an integer');
    const output = o.output ?? 'model.safetensors';
    if (o.backend) {
      // the gpu.js backend registers itself on import; the core never loads it unasked
      if (o.backend.startsWith('gpu')) await import('../../engine/backends/gpu/index.js');
      try {
        setBackend(o.backend);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }

    const data: Split = o.data ? loadIdxDirectory(o.data, { dtype, flatten: model === 'mlp' }) : loadMnist({ dtype, flatten: model === 'mlp' });
    let trainSet: Dataset = data.train;
    let validation: Dataset | undefined;
    if (validationFraction > 0) {
      const parts = stratifiedSplit(data.train, validationFraction, seed);
      trainSet = parts.first;
      validation = parts.second;
    }
    const source = o.data ? `IDX files in ${o.data}` : `embedded MNIST (${EMBEDDED_MNIST.train} train / ${EMBEDDED_MNIST.test} test)`;
    const net = model === 'mlp' ? mlp() : smallCnn();
    console.log(`gift train: ${model === 'mlp' ? 'MLP 784-128-10 tanh' : 'CNN 8c5-16c5-10'} (${net.parameterCount} parameters, ${dtype}) on ${source}`);
    console.log(`  ${trainSet.y.length} training samples${validation ? `, ${validation.y.length} validation` : ''}, ${data.test.y.length} test; ${epochs} epochs, batch ${batchSize}, ${optimizer} lr ${lr} (${schedule}), weight decay ${weightDecay}, seed ${seed}`);
    const started = performance.now();
    const result = train(net, net.init(new Rng(seed), dtype), trainSet, {
      epochs, batchSize, lr, momentum, optimizer, schedule, weightDecay, seed, ...(validation ? { validation } : {}), progress: trainProgress('auto'),
    });
    const seconds = (performance.now() - started) / 1000;
    const test = evaluate(net, result.params, data.test);
    console.log(`trained in ${seconds.toFixed(1)} s (${((epochs * trainSet.y.length) / seconds).toFixed(0)} samples/s)`);
    console.log(`test accuracy ${(100 * test.accuracy).toFixed(2)}%  test loss ${test.loss.toFixed(4)}`);
    if (!o['no-save']) {
      saveModel(output, net, result.params, {
        'gift.train': JSON.stringify({ model, epochs, batchSize, lr, optimizer, momentum, schedule, weightDecay, seed, dtype, data: o.data ?? 'embedded-mnist' }),
        'gift.test_accuracy': test.accuracy.toString(),
      });
      console.log(`saved ${output}`);
    }
    return 0;
  },
};
