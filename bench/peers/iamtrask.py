"""iamtrask's "Anyone can code an LSTM" Elman adder (2015), as in SEEDS.md Experiment A.

The article's script with its constants taken from argv, so Carry's preset can be checked
against numpy at settings other than the fixture's. With no arguments it is the article's run
at 50,000 iterations (the output of /work/shared/fixtures/iamtrask-seed0.txt).

    /usr/bin/python3 bench/peers/iamtrask.py [seed hidden alpha iterations bits print_every]
"""
import copy
import sys

import numpy as np

args = sys.argv[1:]
seed = int(args[0]) if len(args) > 0 else 0
hidden_dim = int(args[1]) if len(args) > 1 else 16
alpha = float(args[2]) if len(args) > 2 else 0.1
iterations = int(args[3]) if len(args) > 3 else 50000
binary_dim = int(args[4]) if len(args) > 4 else 8
print_every = int(args[5]) if len(args) > 5 else 1000

np.random.seed(seed)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_output_to_derivative(output):
    return output * (1 - output)


# training dataset generation
int2binary = {}
largest_number = pow(2, binary_dim)
if binary_dim == 8:
    binary = np.unpackbits(np.array([range(largest_number)], dtype=np.uint8).T, axis=1)
else:  # the same MSB-first uint8 bit vectors at any width
    binary = np.array([[(i >> (binary_dim - 1 - k)) & 1 for k in range(binary_dim)]
                       for i in range(largest_number)], dtype=np.uint8)
for i in range(largest_number):
    int2binary[i] = binary[i]

input_dim = 2
output_dim = 1

# initialize neural network weights
synapse_0 = 2 * np.random.random((input_dim, hidden_dim)) - 1
synapse_1 = 2 * np.random.random((hidden_dim, output_dim)) - 1
synapse_h = 2 * np.random.random((hidden_dim, hidden_dim)) - 1

synapse_0_update = np.zeros_like(synapse_0)
synapse_1_update = np.zeros_like(synapse_1)
synapse_h_update = np.zeros_like(synapse_h)

for j in range(iterations):
    a_int = np.random.randint(largest_number / 2)
    a = int2binary[a_int]
    b_int = np.random.randint(largest_number / 2)
    b = int2binary[b_int]
    c_int = a_int + b_int
    c = int2binary[c_int]

    d = np.zeros_like(c)
    overallError = 0
    layer_2_deltas = list()
    layer_1_values = list()
    layer_1_values.append(np.zeros(hidden_dim))

    # moving along the positions in the binary encoding
    for position in range(binary_dim):
        X = np.array([[a[binary_dim - position - 1], b[binary_dim - position - 1]]])
        y = np.array([[c[binary_dim - position - 1]]]).T
        layer_1 = sigmoid(np.dot(X, synapse_0) + np.dot(layer_1_values[-1], synapse_h))
        layer_2 = sigmoid(np.dot(layer_1, synapse_1))
        layer_2_error = y - layer_2
        layer_2_deltas.append((layer_2_error) * sigmoid_output_to_derivative(layer_2))
        overallError += np.abs(layer_2_error[0])
        d[binary_dim - position - 1] = np.round(layer_2[0][0])
        layer_1_values.append(copy.deepcopy(layer_1))

    future_layer_1_delta = np.zeros(hidden_dim)

    for position in range(binary_dim):
        X = np.array([[a[position], b[position]]])
        layer_1 = layer_1_values[-position - 1]
        prev_layer_1 = layer_1_values[-position - 2]
        layer_2_delta = layer_2_deltas[-position - 1]
        layer_1_delta = (future_layer_1_delta.dot(synapse_h.T) + layer_2_delta.dot(synapse_1.T)) * sigmoid_output_to_derivative(layer_1)
        synapse_1_update += np.atleast_2d(layer_1).T.dot(layer_2_delta)
        synapse_h_update += np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
        synapse_0_update += X.T.dot(layer_1_delta)
        future_layer_1_delta = layer_1_delta

    synapse_0 += synapse_0_update * alpha
    synapse_1 += synapse_1_update * alpha
    synapse_h += synapse_h_update * alpha

    synapse_0_update *= 0
    synapse_1_update *= 0
    synapse_h_update *= 0

    if j % print_every == 0:
        print("Error:" + str(overallError))
        print("Pred:" + str(d))
        print("True:" + str(c))
        out = 0
        for index, x in enumerate(reversed(d)):
            out += int(x) * pow(2, index)
        print(str(a_int) + " + " + str(b_int) + " = " + str(out))
        print("------------")
