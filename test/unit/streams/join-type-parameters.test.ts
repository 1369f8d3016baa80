import type { OperatorFunction } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { aggregateByKey, type AggregateByKeyOptions, type TableUpdate } from '../../../src/streams/aggregate-by-key.js';
import { keyedProcess, type KeyedProcessOptions } from '../../../src/streams/keyed-process.js';
import { reduceByKey, type ReduceByKeyOptions } from '../../../src/streams/reduce-by-key.js';
import { regularJoin, type RegularJoinOptions } from '../../../src/streams/regular-join.js';
import { streamTableJoin, type StreamTableJoinOptions } from '../../../src/streams/stream-table-join.js';
import { tableTableJoin, type TableTableJoinOptions } from '../../../src/streams/table-table-join.js';
import { windowedJoin, type WindowedJoinOptions } from '../../../src/streams/windowed-join.js';
import { tumbling, type TumblingOptions } from '../../../src/streams/tumbling.js';

interface Bid {
  readonly auction: number;
  readonly price: number;
}
interface Auction {
  readonly id: number;
  readonly category: string;
}
interface Row {
  readonly price: number;
  readonly category: string;
}

describe('type parameters of the joins and the keyed operators', () => {
  it('read in one order for each join and its options, as the windows do: inputs, result, key, then what is read from a table', () => {
    expectTypeOf<Parameters<typeof tumbling<Bid, number, number>>[0]>().toEqualTypeOf<TumblingOptions<Bid, number, number>>();
    expectTypeOf<Parameters<typeof windowedJoin<Bid, Auction, Row, number>>[1]>().toEqualTypeOf<WindowedJoinOptions<Bid, Auction, Row, number>>();
    expectTypeOf<Parameters<typeof regularJoin<Bid, Auction, Row, number>>[1]>().toEqualTypeOf<RegularJoinOptions<Bid, Auction, Row, number>>();
    expectTypeOf<Parameters<typeof streamTableJoin<Bid, TableUpdate<number, Auction>, Row, number, Auction>>[1]>().toEqualTypeOf<
      StreamTableJoinOptions<Bid, TableUpdate<number, Auction>, Row, number, Auction>
    >();
    expectTypeOf<Parameters<typeof tableTableJoin<TableUpdate<number, number>, TableUpdate<number, string>, Row, number, number, string>>[1]>().toEqualTypeOf<
      TableTableJoinOptions<TableUpdate<number, number>, TableUpdate<number, string>, Row, number, number, string>
    >();
  });

  it('take the result third, and default what follows it', () => {
    const options: WindowedJoinOptions<Bid, Auction, Row> = { timeDifference: 1_000, key: (b) => b.auction, otherKey: (a) => a.id, join: (b, a) => ({ price: b.price, category: a.category }) };
    expectTypeOf(options.join).returns.toEqualTypeOf<Row>();
    const regular: RegularJoinOptions<Bid, Auction, Row> = { key: (b) => b.auction, otherKey: (a) => a.id, join: (b, a) => ({ price: b.price, category: a.category }) };
    expectTypeOf(regular.join).returns.toEqualTypeOf<Row>();
  });

  it('hold for the keyed operators too: input, then aggregate, state or result, then key', () => {
    expectTypeOf<Parameters<typeof aggregateByKey<Bid, number, number>>[0]>().toEqualTypeOf<AggregateByKeyOptions<Bid, number, number>>();
    expectTypeOf<ReturnType<typeof aggregateByKey<Bid, string, number>>>().toEqualTypeOf<OperatorFunction<Bid, TableUpdate<number, string>>>();
    expectTypeOf<ReturnType<typeof reduceByKey<Bid, string, number>>>().toEqualTypeOf<OperatorFunction<Bid, TableUpdate<number, string>>>();
    expectTypeOf<Parameters<typeof reduceByKey<Bid, string, number>>[0]>().toEqualTypeOf<ReduceByKeyOptions<Bid, string, number>>();
    expectTypeOf<Parameters<typeof keyedProcess<Bid, number, Row, string>>[0]>().toEqualTypeOf<KeyedProcessOptions<Bid, number, Row, string>>();
    expectTypeOf<ReturnType<typeof keyedProcess<Bid, number, Row, string>>>().toEqualTypeOf<OperatorFunction<Bid, Row>>();
  });
});
